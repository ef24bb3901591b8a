import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { KeyPrefix } from './key-prefix.js';
import type { FsStorageOptions, S3StorageOptions, StorageOptions } from './storage-options.js';

/**
 * How writing to `destination` relates to `source`: 'same' when it is the source, 'inside' when its
 * keys lie within the source's (the same bucket under the source's prefix, or a directory in the
 * source's tree), otherwise 'apart'. Decided by where the bytes live, not by how the options are
 * spelt: credentials, region and path style name no other bucket, `http://localhost:9000/` is
 * `http://127.0.0.1:9000`, and `/srv/system/` or a symlink to it is `/srv/system`.
 */
export async function destinationPlacement(source: StorageOptions, destination: StorageOptions): Promise<'same' | 'inside' | 'apart'> {
  if (source.type === 's3' && destination.type === 's3') return s3Placement(source, destination);
  if (source.type === 'fs' && destination.type === 'fs') return fsPlacement(source, destination);
  return 'apart';
}

function s3Placement(source: S3StorageOptions, destination: S3StorageOptions): 'same' | 'inside' | 'apart' {
  if (s3Service(source.endpoint) !== s3Service(destination.endpoint) || source.bucket !== destination.bucket) return 'apart';
  const sourcePrefix = new KeyPrefix(source.prefix).value;
  const destinationPrefix = new KeyPrefix(destination.prefix).value;
  if (sourcePrefix === destinationPrefix) return 'same';
  return destinationPrefix.startsWith(sourcePrefix) ? 'inside' : 'apart';
}

const loopbackHosts = new Set(['localhost', '[::1]', '::1']);
const defaultPorts: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * One name per S3 service: AWS by any of its endpoints (bucket names are global there), others by
 * host and port, with every spelling of this machine as one (`localhost`, `127.0.0.1`, `[::1]`).
 * Two storages of one service name the same buckets: one may be the other, and a CopyObject sent
 * to one can read the other's objects.
 */
export function s3Service(endpoint: string | undefined): string {
  if (endpoint === undefined) return 'aws';
  const url = new URL(endpoint);
  const host = url.hostname.toLowerCase();
  if (host === 'amazonaws.com' || host.endsWith('.amazonaws.com')) return 'aws';
  const name = loopbackHosts.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host) ? 'loopback' : host;
  return `${name}:${url.port || defaultPorts[url.protocol] || ''}`;
}

/**
 * The endpoint as shown in messages and recorded for other machines: no user:password part (a
 * MinIO-style http://user:secret@host URL works as an endpoint), no trailing slash.
 */
export function displayEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return '(invalid endpoint)';
  }
}

async function fsPlacement(source: FsStorageOptions, destination: FsStorageOptions): Promise<'same' | 'inside' | 'apart'> {
  const [sourceBase, destinationBase] = await Promise.all([canonicalPath(base(source)), canonicalPath(base(destination))]);
  if (sourceBase === destinationBase) return 'same';
  const relative = path.relative(sourceBase, destinationBase);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? 'inside' : 'apart';
}

function base(options: FsStorageOptions): string {
  const prefix = new KeyPrefix(options.prefix).value;
  return path.join(path.resolve(options.root), prefix);
}

/** The path with symlinks resolved as far as it exists: a destination may not have been made yet. */
async function canonicalPath(target: string): Promise<string> {
  try {
    return await realpath(target);
  } catch {
    const parent = path.dirname(target);
    return parent === target ? target : path.join(await canonicalPath(parent), path.basename(target));
  }
}
