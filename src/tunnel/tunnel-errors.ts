/**
 * One-line UserErrors for everything that can stop the tunnel before it is up. Messages name the
 * server, the user and file paths, never a password, a passphrase or key content.
 */
import { UserError } from '../errors.js';

export interface TunnelErrorContext {
  host: string;
  port: number;
  user: string;
}

type Ssh2Error = Error & { level?: string; code?: string };

const where = (context: TunnelErrorContext): string => `${context.host}:${context.port}`;

/** Classifies an error ssh2 emitted while connecting. `hostKeyProblem` is set when our verifier said no. */
export function connectError(error: Ssh2Error, context: TunnelErrorContext, hostKeyProblem: UserError | undefined): UserError {
  if (hostKeyProblem !== undefined) return hostKeyProblem;
  if (error.level === 'client-authentication') {
    return new UserError(
      `SSH tunnel: ${context.user}@${where(context)} refused the login: check [tunnel] user, and private_key_path (its public key must be in that user's authorized_keys) or password`,
      'tunnel.auth',
    );
  }
  if (error.level === 'client-timeout') {
    return new UserError(`SSH tunnel: ${where(context)} did not complete an SSH handshake in time: check that [tunnel] host and port point at an SSH server`, 'tunnel.unreachable');
  }
  if (error.level === 'client-socket' || error.level === 'client-dns' || error.code !== undefined) {
    const reason = error.code ?? error.message;
    return new UserError(`SSH tunnel: cannot reach ${where(context)} (${reason}): check [tunnel] host and port, and that sshd runs there`, 'tunnel.unreachable');
  }
  // Handshake failures (no common algorithm, protocol errors): ssh2's message says which, and holds no secret.
  return new UserError(`SSH tunnel: the SSH handshake with ${where(context)} failed (${error.message}): check that the server is an OpenSSH-compatible sshd`, 'tunnel.unreachable');
}

export function hostKeyMismatch(context: TunnelErrorContext, knownHostsPath: string): UserError {
  return new UserError(
    `SSH tunnel: the host key of ${where(context)} is not the one in ${knownHostsPath}: if the server's key really changed, remove the old line (ssh-keygen -R '${knownHostName(context)}' -f ${knownHostsPath}) and add the new one; otherwise someone may be intercepting the connection`,
    'tunnel.host-key',
  );
}

export function hostKeyRevoked(context: TunnelErrorContext, knownHostsPath: string): UserError {
  return new UserError(`SSH tunnel: the host key of ${where(context)} is marked @revoked in ${knownHostsPath}: the server must get a new host key`, 'tunnel.host-key');
}

export function hostUnknown(context: TunnelErrorContext, knownHostsPath: string): UserError {
  return new UserError(
    `SSH tunnel: ${knownHostName(context)} is not in ${knownHostsPath}: connect once with ssh -p ${context.port} ${context.user}@${context.host} and check the fingerprint, or append the server's verified key to that file`,
    'tunnel.host-key',
  );
}

export function hostKeyTypesUnsupported(context: TunnelErrorContext, knownHostsPath: string): UserError {
  return new UserError(
    `SSH tunnel: ${knownHostsPath} lists ${knownHostName(context)} only with key types this tool cannot check (it supports ed25519, ECDSA, RSA and DSA): add one of those host keys to the file`,
    'tunnel.host-key',
  );
}

export function knownHostsUnreadable(knownHostsPath: string, error: NodeJS.ErrnoException): UserError {
  return new UserError(`SSH tunnel: cannot read known_hosts file ${knownHostsPath} (${error.code ?? error.message}): check [tunnel] known_hosts_path`, 'tunnel.host-key');
}

export function keyFileUnreadable(keyPath: string, error: NodeJS.ErrnoException): UserError {
  return new UserError(`SSH tunnel: cannot read private key ${keyPath} (${error.code ?? error.message}): check [tunnel] private_key_path`, 'tunnel.key-file');
}

/** ssh2's parse errors name the format problem only; the key's bytes never appear in them. */
export function keyFileInvalid(keyPath: string, passphraseGiven: boolean, reason: string): UserError {
  if (!passphraseGiven && /encrypted|passphrase/i.test(reason)) {
    return new UserError(`SSH tunnel: private key ${keyPath} is encrypted: set [tunnel] passphrase`, 'tunnel.key-file');
  }
  const hint = passphraseGiven ? 'check [tunnel] passphrase and that the file is an OpenSSH or PEM private key' : 'use an OpenSSH or PEM private key (ssh-keygen makes one)';
  return new UserError(`SSH tunnel: cannot use private key ${keyPath} (${reason}): ${hint}`, 'tunnel.key-file');
}

export function targetUnreachable(context: TunnelErrorContext, target: string, reason: string): UserError {
  return new UserError(
    `SSH tunnel: ${context.host} cannot open a connection to ${target} (${reason}): check [database] host and port as seen from the SSH host, and that its sshd allows forwarding (AllowTcpForwarding, AllowStreamLocalForwarding)`,
    'tunnel.unreachable',
  );
}

/** How OpenSSH names a server in known_hosts. */
function knownHostName(context: TunnelErrorContext): string {
  return context.port === 22 ? context.host : `[${context.host}]:${context.port}`;
}
