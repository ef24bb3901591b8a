/**
 * An independent check of AWS Signature V4 on requests as they arrive, for
 * what s3rver does not do (it checks only the access key id). Written from
 * AWS's specification rather than with the SDK's signer, so that it catches a
 * request whose wire form differs from what was signed: a key encoded twice
 * or not at all, a header changed after signing.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const strictEncode = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);

/** Why the request's signature is wrong, or undefined when it is right (or the request is not SigV4-signed by header). */
export function sigV4Mismatch(method: string, rawUrl: string, headers: IncomingHttpHeaders, secretAccessKey: string): string | undefined {
  const authorization = headers.authorization;
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(authorization ?? '');
  if (match === null) return `not a SigV4 Authorization header: ${authorization ?? '(none)'}`;
  const [, , day, region, service, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string, string];
  const [rawPath = '/', rawQuery = ''] = rawUrl.split('?', 2);
  // S3 canonicalizes the path it received: each segment decoded once, then encoded strictly once.
  const canonicalPath = rawPath.split('/').map((segment) => strictEncode(decodeURIComponent(segment))).join('/');
  const canonicalQuery = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const [name = '', value = ''] = pair.split('=', 2);
      return [strictEncode(decodeURIComponent(name.replace(/\+/g, ' '))), strictEncode(decodeURIComponent(value.replace(/\+/g, ' ')))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((name) => `${name}:${String(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = String(headers['x-amz-content-sha256'] ?? '');
  const canonicalRequest = [method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const amzDate = String(headers['x-amz-date'] ?? '');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return expected === signature ? undefined : `signature mismatch for canonical request:\n${canonicalRequest}`;
}
