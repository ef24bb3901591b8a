import { UserError } from '../../errors.js';
import { describeStorageError } from '../errors.js';
import { isAclRefusal, isAuthFailure, isMissingBucket, isStorageClassRefusal, isUnreachable, isWrongRegion } from './s3-error-codes.js';

export interface S3Location {
  bucket: string;
  region: string;
  /** Where requests go, without credentials: `http://127.0.0.1:4568` or `AWS (eu-west-1)`. */
  where: string;
}

/**
 * Turns a failed check listing (or write probe) into one line the admin can act
 * on. Only the bucket, region and endpoint are named: never a key or secret.
 */
export function checkFailure(error: unknown, location: S3Location, action: 'reach' | 'write to'): UserError {
  const { bucket, region, where } = location;
  const reason = describeStorageError(error);
  if (isUnreachable(error)) {
    return new UserError(
      `cannot reach ${where} for bucket "${bucket}" (${reason}): check "endpoint" and that the server is up and reachable from here`,
      'storage.unreachable',
    );
  }
  if (isAuthFailure(error)) {
    return new UserError(
      `access denied when trying to ${action} bucket "${bucket}" at ${where} (${reason}): check "access_key_id" and "secret_access_key" and that the key may ${action === 'reach' ? 'list' : 'write to'} this bucket`,
      'storage.auth',
    );
  }
  if (isWrongRegion(error)) {
    return new UserError(
      `bucket "${bucket}" at ${where} is not in region "${region}" (${reason}): set "region" to the bucket's region`,
      'storage.wrong-region',
    );
  }
  if (action === 'reach' && isMissingBucket(error)) {
    return new UserError(
      `bucket "${bucket}" does not exist at ${where}: create it, or correct "bucket" (and "endpoint") in the config`,
      'storage.no-bucket',
    );
  }
  // The server's own words name the header and value it refused.
  const said = error instanceof Error && error.message !== '' && !reason.includes(error.message) ? `${reason}: ${error.message}` : reason;
  if (action === 'write to' && isAclRefusal(error)) {
    return new UserError(
      `bucket "${bucket}" at ${where} refuses per-object ACLs (${said}): set acl = none in [sync] (Cloudflare R2 and S3 buckets with ACLs disabled take none; the bucket's own settings make the media public)`,
      'storage.acl-refused',
    );
  }
  if (action === 'write to' && isStorageClassRefusal(error)) {
    return new UserError(
      `bucket "${bucket}" at ${where} refuses the storage class (${said}): remove storage_class from [sync], or set one this provider offers`,
      'storage.storage-class-refused',
    );
  }
  return new UserError(`cannot use bucket "${bucket}" at ${where} (${reason})`, 'storage.unusable', { cause: error });
}
