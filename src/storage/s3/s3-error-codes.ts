/** Reading the few facts the S3 back end needs out of SDK and network errors. */

interface SdkErrorFields {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function fields(error: unknown): SdkErrorFields {
  return typeof error === 'object' && error !== null ? (error as SdkErrorFields) : {};
}

export function httpStatus(error: unknown): number | undefined {
  const status = fields(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function errorName(error: unknown): string | undefined {
  const name = fields(error).name;
  return typeof name === 'string' ? name : undefined;
}

export function errorCode(error: unknown): string | undefined {
  const code = fields(error).code;
  return typeof code === 'string' ? code : undefined;
}

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

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
]);

/** Nothing answered (or nothing S3-like): a wrong endpoint, a down server, DNS, TLS. */
export function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && (unreachableCodes.has(code) || /^(CERT_|ERR_TLS_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code))) return true;
  return errorName(error) === 'TimeoutError' && httpStatus(error) === undefined;
}
