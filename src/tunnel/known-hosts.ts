/**
 * The part of OpenSSH's known_hosts format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT") a client
 * needs to check one server: plain and hashed (`|1|salt|hash`) host names, `[host]:port` for
 * ports other than 22, `*`/`?` wildcards, `!` negation and the `@revoked` marker.
 * `@cert-authority` lines are skipped: ssh2 does not verify host certificates.
 */
import { createHmac } from 'node:crypto';

export interface KnownHostKey {
  /** e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The key blob in SSH wire format: what ssh2 hands to `hostVerifier`. */
  blob: Buffer;
}

export interface KnownHostEntries {
  trusted: KnownHostKey[];
  revoked: KnownHostKey[];
}

/** The keys `text` lists for `host` on `port`. Pure. */
export function knownHostKeys(text: string, host: string, port: number): KnownHostEntries {
  // OpenSSH writes and looks up `[host]:port` for every port but the default.
  const name = port === 22 ? host : `[${host}]:${port}`;
  const entries: KnownHostEntries = { trusted: [], revoked: [] };
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    const [patterns, type, base64] = fields;
    if (patterns === undefined || type === undefined || base64 === undefined) continue;
    if (marker === '@cert-authority' || !hostMatches(patterns, name.toLowerCase())) continue;
    const key = { type, blob: Buffer.from(base64, 'base64') };
    if (marker === '@revoked') entries.revoked.push(key);
    else if (marker === undefined) entries.trusted.push(key);
  }
  return entries;
}

/** Comma-separated patterns, or one hashed name; a matching `!pattern` vetoes the line. */
function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return hashedNameMatches(patterns, name);
  let matched = false;
  for (const pattern of patterns.toLowerCase().split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` and HashKnownHosts write. */
function hashedNameMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (salt === undefined || hash === undefined) return false;
  const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return expected === hash;
}

function wildcardMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(name);
}

/**
 * The host key algorithms ssh2 may negotiate to obtain one of these keys, in file order. Offering
 * only these (as OpenSSH prefers known types) keeps a server with several host keys from
 * answering with one the file does not list, which would look like a mismatch.
 */
export function hostKeyAlgorithmsFor(keys: KnownHostKey[]): string[] {
  const algorithms: string[] = [];
  for (const { type } of keys) {
    const forType = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : supportedTypes.has(type) ? [type] : [];
    for (const algorithm of forType) if (!algorithms.includes(algorithm)) algorithms.push(algorithm);
  }
  return algorithms;
}

const supportedTypes = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-dss']);
