/**
 * A loopback TCP relay in front of a server (a test's own Redis), which goes dead on cue: at the
 * first bytes a client sends that contain a given text, as a server that freezes or dies at that
 * very moment. A test can so stop Redis after a command has connected and before it has read,
 * which no signal sent from outside can time.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** freeze: every connection stays open and nothing passes any more (a frozen server, a dead link); drop: every connection is closed and new ones are refused (a killed server). */
export type GateFailure = 'freeze' | 'drop';

export interface TcpGate {
  port: number;
  /** From the first client bytes containing `text` on (those bytes included), fails as `failure` says. */
  failWhen(text: string, failure: GateFailure): void;
  /** Whether it has failed yet. */
  readonly failed: boolean;
  close(): Promise<void>;
}

export async function startTcpGate(targetPort: number): Promise<TcpGate> {
  const sockets = new Set<Socket>();
  let trigger: { text: string; failure: GateFailure } | undefined;
  let state: 'open' | GateFailure = 'open';

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const fail = (failure: GateFailure): void => {
    state = failure;
    if (failure === 'freeze') return;
    server.close();
    for (const socket of sockets) socket.destroy();
  };

  const server = createServer((client) => {
    track(client);
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (state === 'open' && trigger !== undefined && chunk.includes(trigger.text)) fail(trigger.failure);
      if (state === 'open') upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (state === 'open') client.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    port,
    failWhen(text, failure) {
      trigger = { text, failure };
    },
    get failed() {
      return state !== 'open';
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
