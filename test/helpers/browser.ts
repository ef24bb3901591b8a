import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const run = promisify(execFile);

/** Debian's Chromium: playwright's own browser download cannot be fetched on these machines. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Flags for a root, headless, offline Chromium: without the background-networking ones it keeps
 * dialling Google's hosts, which this machine's closed network refuses.
 */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian's `chromium` with apt-get when absent (as root, or through sudo), so a bare machine runs the browser tests. */
export async function ensureChromium(): Promise<string> {
  if (await exists(chromiumPath)) return chromiumPath;
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = async (...args: string[]): Promise<void> => {
    const [command, ...rest] = [...asRoot, 'apt-get', ...args];
    await run(command!, rest, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 * 1024 * 1024 });
  };
  await apt('update', '-qq');
  await apt('install', '-y', '-qq', '--no-install-recommends', 'chromium');
  if (!(await exists(chromiumPath))) throw new Error(`apt-get installed chromium but ${chromiumPath} is not there`);
  return chromiumPath;
}

/** A headless Chromium ready for a test; close it in an `after` hook. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await ensureChromium();
  return chromium.launch({ executablePath, args: chromiumArgs });
}
