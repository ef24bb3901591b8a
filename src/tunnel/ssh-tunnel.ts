/**
 * An SSH local port forward (`ssh -L`), in process: the database port of a Mastodon server that
 * only listens on its own loopback or private network, made reachable at 127.0.0.1:<ephemeral>
 * here. The original tool's `pg.tunnel`.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import ssh2, { type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { UserError } from '../errors.js';
import { hostKeyAlgorithmsFor, knownHostKeys } from './known-hosts.js';
import {
  connectError,
  hostKeyMismatch,
  hostKeyRevoked,
  hostKeyTypesUnsupported,
  hostUnknown,
  keyFileInvalid,
  keyFileUnreadable,
  knownHostsUnreadable,
  targetUnreachable,
  type TunnelErrorContext,
} from './tunnel-errors.js';

export interface TunnelOptions {
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  privateKeyPath?: string;
  password?: string;
  /** For an encrypted private key. */
  passphrase?: string;
  /** When set, the server's host key must be listed for it in this OpenSSH known_hosts file. */
  knownHostsPath?: string;
  /** SSH keepalives keep idle NAT and firewall state alive through long runs; default 30 s, 0 turns them off. */
  keepaliveIntervalMs?: number;
}

/** Where the SSH server connects to: a TCP address, or a Unix socket on the SSH host. */
export type TunnelTarget = { host: string; port: number } | { socketPath: string };

export interface SshTunnel {
  /** Always 127.0.0.1. */
  host: string;
  /** The local ephemeral port forwarding to the target. */
  port: number;
  /** Stops listening, drops forwarded connections and ends the SSH session. Idempotent. */
  close(): Promise<void>;
}

const defaultKeepaliveMs = 30_000;

export async function openSshTunnel(options: TunnelOptions, target: TunnelTarget): Promise<SshTunnel> {
  const context: TunnelErrorContext = { host: options.host, port: options.port ?? 22, user: options.user };
  const privateKey = options.privateKeyPath === undefined ? undefined : await readPrivateKey(options.privateKeyPath, options.passphrase);
  const hostCheck = options.knownHostsPath === undefined ? undefined : await readHostKeyCheck(options.knownHostsPath, context);

  const config: ConnectConfig = {
    host: context.host,
    port: context.port,
    username: context.user,
    keepaliveInterval: options.keepaliveIntervalMs ?? defaultKeepaliveMs,
    ...(privateKey === undefined ? {} : { privateKey, ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }) }),
    // Servers behind PAM often take the password only through keyboard-interactive.
    ...(options.password === undefined ? {} : { password: options.password, tryKeyboard: true }),
    ...(hostCheck === undefined ? {} : { algorithms: { serverHostKey: hostCheck.algorithms as ServerHostKeyAlgorithm[] } }),
  };
  const client = await connect(config, context, hostCheck, options.password);
  const sessionEnded = new Promise<void>((resolve) => client.once('close', () => resolve()));

  try {
    // One channel opened and dropped at once: a wrong [database] host or a server that forbids
    // forwarding fails here with a clear message, instead of as a reset connection inside pg.
    // (PostgreSQL logs it as an "incomplete startup packet".)
    const probe = await openChannel(client, target, '127.0.0.1', 0);
    probe.destroy();
  } catch (error) {
    client.end();
    throw targetUnreachable(context, describeTarget(target), (error as Error).message.replace(/^\(SSH\)\s*/, ''));
  }

  const sockets = new Set<Socket>();
  const server = createServer((socket) => forward(client, target, socket, sockets));
  let port: number;
  try {
    port = await listenOnLoopback(server);
  } catch (error) {
    client.end();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    close: () => (closing ??= closeTunnel(server, sockets, client, sessionEnded)),
  };
}

type Client = InstanceType<typeof ssh2.Client>;

interface HostKeyCheck {
  knownHostsPath: string;
  algorithms: string[];
  /** undefined when the key is trusted, else why not. */
  verify(blob: Buffer): UserError | undefined;
}

async function readPrivateKey(keyPath: string, passphrase: string | undefined): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(keyPath);
  } catch (error) {
    throw keyFileUnreadable(keyPath, error as NodeJS.ErrnoException);
  }
  // Parsed here, not left to ssh2's connect(), which throws a bare Error for a bad key.
  const parsed = ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) throw keyFileInvalid(keyPath, passphrase !== undefined, parsed.message);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || !key.isPrivateKey()) throw keyFileInvalid(keyPath, passphrase !== undefined, 'it holds a public key, not a private one');
  return data;
}

async function readHostKeyCheck(knownHostsPath: string, context: TunnelErrorContext): Promise<HostKeyCheck> {
  let text: string;
  try {
    text = await readFile(knownHostsPath, 'utf8');
  } catch (error) {
    throw knownHostsUnreadable(knownHostsPath, error as NodeJS.ErrnoException);
  }
  const { trusted, revoked } = knownHostKeys(text, context.host, context.port);
  if (trusted.length === 0) throw hostUnknown(context, knownHostsPath);
  const algorithms = hostKeyAlgorithmsFor(trusted);
  if (algorithms.length === 0) throw hostKeyTypesUnsupported(context, knownHostsPath);
  return {
    knownHostsPath,
    algorithms,
    verify(blob) {
      if (revoked.some((key) => key.blob.equals(blob))) return hostKeyRevoked(context, knownHostsPath);
      return trusted.some((key) => key.blob.equals(blob)) ? undefined : hostKeyMismatch(context, knownHostsPath);
    },
  };
}

function connect(config: ConnectConfig, context: TunnelErrorContext, hostCheck: HostKeyCheck | undefined, password: string | undefined): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyProblem: UserError | undefined;
    let settled = false;
    const fail = (error: UserError): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error);
    };
    client.on('error', (error: Error & { level?: string }) => {
      // Offering only the known key types, a server with none of them cannot be verified.
      if (hostCheck !== undefined && /no matching host key format/.test(error.message)) {
        hostKeyProblem ??= hostKeyMismatch(context, hostCheck.knownHostsPath);
      }
      // After 'ready', errors end the session; forwarded sockets close with their channels.
      fail(connectError(error, context, hostKeyProblem));
    });
    client.once('close', () => fail(connectError(new Error('the server closed the connection during the handshake'), context, hostKeyProblem)));
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    if (password !== undefined) {
      client.on('keyboard-interactive', (_name, _instructions, _language, prompts, finish) => finish(prompts.map(() => password)));
    }
    if (hostCheck !== undefined) {
      config.hostVerifier = (blob: Buffer): boolean => {
        hostKeyProblem = hostCheck.verify(blob);
        return hostKeyProblem === undefined;
      };
    }
    try {
      client.connect(config);
    } catch (error) {
      fail(connectError(error as Error, context, hostKeyProblem));
    }
  });
}

function openChannel(client: Client, target: TunnelTarget, sourceIp: string, sourcePort: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | undefined, channel: ClientChannel): void => (error ? reject(error) : resolve(channel));
    try {
      if ('socketPath' in target) client.openssh_forwardOutStreamLocal(target.socketPath, done);
      else client.forwardOut(sourceIp, sourcePort, target.host, target.port, done);
    } catch (error) {
      // ssh2 throws "Not connected" once the session is gone.
      reject(error as Error);
    }
  });
}

/** Listens on 127.0.0.1 at a port the OS picks: only this machine's processes can use the tunnel. */
async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  // Later accept errors (EMFILE...) fail only the connection being accepted, not the run.
  server.on('error', () => undefined);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the tunnel server has no TCP address');
  return address.port;
}

/** Pipes one accepted local connection through a new SSH channel; either side closing closes both. */
function forward(client: Client, target: TunnelTarget, socket: Socket, sockets: Set<Socket>): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  // Until the channel opens the socket is paused (it buffers); a reset meanwhile must not crash the process.
  socket.on('error', () => socket.destroy());
  openChannel(client, target, socket.remoteAddress ?? '127.0.0.1', socket.remotePort ?? 0).then(
    (channel) => {
      if (socket.destroyed) {
        channel.destroy();
        return;
      }
      pipeline(socket, channel, socket, () => {
        socket.destroy();
        channel.destroy();
      });
    },
    () => socket.destroy(),
  );
}

async function closeTunnel(server: Server, sockets: Set<Socket>, client: Client, sessionEnded: Promise<void>): Promise<void> {
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  // server.close() waits for open connections: drop them (their channels follow).
  for (const socket of sockets) socket.destroy();
  await serverClosed;
  client.end();
  await sessionEnded;
}

function describeTarget(target: TunnelTarget): string {
  return 'socketPath' in target ? target.socketPath : `${target.host}:${target.port}`;
}
