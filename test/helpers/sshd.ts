/**
 * A real OpenSSH server for tunnel tests: Debian's /usr/sbin/sshd on a free 127.0.0.1 port, with
 * its own config, a generated host key and a generated client key, all in a temp folder.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sshdPath = '/usr/sbin/sshd';

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  /** The login sshd accepts: the user running the tests (root in CI). */
  user: string;
  /** A private key whose public half is in sshd's authorized_keys. */
  clientKeyPath: string;
  /** `ssh-ed25519 AAAA...` as in the server's host_key.pub. */
  hostPublicKey: string;
  /** Scratch folder for the test's own files; removed by stop(). */
  dir: string;
  /** What sshd wrote on stderr (-e), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Makes sure sshd is installed: CI runs as root on Debian, so apt-get installs openssh-server
 * when it is absent. Returns a reason to skip only when that is impossible.
 */
export async function ensureSshd(): Promise<string | undefined> {
  if (await exists(sshdPath)) return undefined;
  if (!(await exists('/usr/bin/apt-get'))) return `${sshdPath} is missing and apt-get is not available: install OpenSSH's server to run the tunnel tests`;
  if (process.getuid?.() !== 0) return `${sshdPath} is missing and the tests do not run as root: apt-get install openssh-server`;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', 'openssh-server'], { env, maxBuffer: 16 * 1024 * 1024 });
  return (await exists(sshdPath)) ? undefined : `apt-get install openssh-server did not provide ${sshdPath}`;
}

/** Generates an unencrypted ed25519 key pair at `file` and `file`.pub. */
export async function generateKey(file: string): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mastodon-s3-sync-test', '-f', file]);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

export async function startSshd(): Promise<Sshd> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mss-sshd-'));
  const hostKeyPath = path.join(dir, 'host_key');
  const clientKeyPath = path.join(dir, 'client_key');
  const hostPublicKey = await generateKey(hostKeyPath);
  const clientPublicKey = await generateKey(clientKeyPath);
  const authorizedKeysPath = path.join(dir, 'authorized_keys');
  await writeFile(authorizedKeysPath, `${clientPublicKey}\n`);
  // Debian's sshd refuses to start without its privilege separation folder (made by the service unit).
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const port = await freePort();
  const configPath = path.join(dir, 'sshd_config');
  await writeFile(
    configPath,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyPath}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeysPath}`,
      // The temp folder's modes are not what sshd demands of a home directory.
      'StrictModes no',
      'UsePAM no',
      // Tests run as root in CI; keys only, as a hardened server would be.
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding yes',
      'AllowStreamLocalForwarding yes',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );

  const child = spawn(sshdPath, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForBanner(port, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host: '127.0.0.1', port, user: userInfo().username, clientKeyPath, hostPublicKey, dir, log: () => stderr, stop };
}

/** A port nothing listens on right now (the OS picks it; it is released before returning). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Resolves once sshd answers with its `SSH-2.0-` banner; rejects if it exits first or after 10 s. */
async function waitForBanner(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}:\n${log()}`);
    if (await answersWithBanner(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within 10 s:\n${log()}`);
}

function answersWithBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('SSH-2.0-'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
