/**
 * The `x-amz-copy-source` value for `bucket/key`. S3, MinIO and R2 URL-decode
 * it (so '+' would become a space and '?' would start a version id), while
 * s3rver only applies `decodeURI`. `encodeURI` suits both for spaces, unicode
 * and '%'; '+', '?' and '#' are escaped on top because real S3 needs it.
 * s3rver cannot copy keys holding those three (it leaves `%2B` undecoded);
 * Mastodon's own keys never contain them.
 */
export function encodeCopySource(bucket: string, fullKey: string): string {
  return encodeURI(`${bucket}/${fullKey}`).replace(/[+?#]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}
