import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { UserError } from '../errors.js';

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.startsWith('::ffff:127.');
  return false;
}

/** Anyone who can reach a non-loopback address would see the keys and logs: refuse to start without a token. */
export function assertSafeBinding(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || (token !== undefined && token !== '')) return;
  throw new UserError(
    `the dashboard would listen on ${host}, which other machines can reach: pass --ui-token TOKEN, or set [ui] token or MASTODON_S3_SYNC_UI_TOKEN (or listen on 127.0.0.1)`,
    'ui.token-required',
  );
}

/** A compare whose time does not tell how much of a guess was right. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The cookie a page opened with `?token=` gets, so that what the page loads by itself without the
 * token (bull-board's scripts and API calls under /queues) gets through too. HttpOnly, and sent only
 * by pages of this origin (SameSite=Strict).
 */
const tokenCookie = 'mastodon-s3-sync-token';

export function tokenCookieHeader(token: string): string {
  return `${tokenCookie}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The token a request presents: `Authorization: Bearer …`, else `?token=` (EventSource cannot send headers), else the cookie. */
export function presentedToken(authorization: string | undefined, queryToken: unknown, cookieHeader: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (match !== null) return match[1]!.trim();
  if (typeof queryToken === 'string') return queryToken;
  for (const pair of (cookieHeader ?? '').split(';')) {
    const [name, value] = pair.split('=', 2).map((part) => part.trim());
    if (name !== tokenCookie || value === undefined) continue;
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function tokenMatches(presented: string | undefined, expected: string): boolean {
  return presented !== undefined && sameSecret(presented, expected);
}

/**
 * Without a token the loopback binding is the only protection, and DNS rebinding defeats it: a web
 * page on evil.example can resolve its name to 127.0.0.1 and read the API. Its requests then carry
 * `Host: evil.example`, so only loopback Host names are served.
 */
export function hostHeaderIsLoopback(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
  return isLoopbackHost(name);
}
