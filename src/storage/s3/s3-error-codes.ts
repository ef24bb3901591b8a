/** Reading the few facts the S3 back end needs out of SDK and network errors. */
import { errorCode, errorName, httpStatus, unreachableCodes } from '../../errors.js';

export function isMissingBucket(error: unknown): boolean {
  return errorName(error) === 'NoSuchBucket' || httpStatus(error) === 404;
}

export function isAuthFailure(error: unknown): boolean {
  const name = errorName(error);
  return (
    httpStatus(error) === 403 ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'AccessDenied' ||
    name === 'Forbidden' ||
    name === 'InvalidToken' ||
    name === 'ExpiredToken'
  );
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  return `${errorName(error) ?? ''} ${message}`;
}

/** A refusal of per-object ACLs: R2 (501 "Header 'x-amz-acl' … not implemented"), AWS buckets with ACLs disabled (400 AccessControlListNotSupported). */
export function isAclRefusal(error: unknown): boolean {
  return /AccessControlListNotSupported|x-amz-acl|\bACLs?\b/i.test(errorText(error));
}

/** A refusal of the storage class: one the provider does not offer (InvalidStorageClass), or no storage classes at all (R2's 501). */
export function isStorageClassRefusal(error: unknown): boolean {
  return /InvalidStorageClass|x-amz-storage-class|storage class/i.test(errorText(error));
}

/** The bucket lives in another region (AWS answers HEAD with a bare 301). */
export function isWrongRegion(error: unknown): boolean {
  const name = errorName(error);
  return httpStatus(error) === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed';
}

/** Nothing answered (or nothing S3-like): a wrong endpoint, a down server, DNS, TLS. */
export function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && (unreachableCodes.has(code) || /^(CERT_|ERR_TLS_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code))) return true;
  return errorName(error) === 'TimeoutError' && httpStatus(error) === undefined;
}
