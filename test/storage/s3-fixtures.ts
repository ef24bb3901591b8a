import type { S3StorageOptions } from '../../src/storage/storage-options.js';
import { s3rverCredentials, s3rverRegion } from '../helpers/s3-server.js';

const mebibyte = 1024 * 1024;

/** S3StorageOptions for a bucket on a test s3rver, with small multipart sizes so multipart paths run quickly. */
export function s3rverOptions(endpoint: string, bucket: string, overrides: Partial<S3StorageOptions> = {}): S3StorageOptions {
  return {
    type: 's3',
    endpoint,
    region: s3rverRegion,
    bucket,
    ...s3rverCredentials,
    forcePathStyle: true,
    maxSockets: 16,
    multipartThreshold: 8 * mebibyte,
    partSize: 5 * mebibyte,
    ...overrides,
  };
}
