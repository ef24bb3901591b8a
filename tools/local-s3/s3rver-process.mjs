// One s3rver in its own process, for the bench, the demo and the generator tests.
// Started as `node --openssl-legacy-provider`: s3rver encrypts ListObjectsV2 continuation
// tokens with DES, which OpenSSL 3 only has in its legacy provider.
// Argument: JSON { directory, buckets, port }. Prints JSON { port } on stdout once listening.
// Counts every request it answers, by kind and status, at no cost to the server:
// a line "counts" on stdin prints {"counts": {...}}; "reset" zeroes them and prints {"reset": true}.
// Stops on SIGTERM/SIGINT or when its stdin closes (the parent is gone).
import S3rver from 's3rver';
import { unlink } from 'node:fs/promises';
import readline from 'node:readline';

const { directory, buckets = [], port = 0 } = JSON.parse(process.argv[2] ?? '{}');
const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  silent: true,
  resetOnClose: false,
  configureBuckets: buckets.map((name) => ({ name })),
});
// s3rver removes a folder that a DELETE leaves empty, and a PUT into that folder between its mkdir
// and its open then fails with ENOENT in an unhandled stream error that kills the server (seen when
// two workers probe one destination prefix at once). S3 has no folders: keep them.
server.store.deleteObject = async function deleteObjectKeepingFolders(bucket, key) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((resource) =>
      unlink(this.getResourcePath(bucket, key, resource)).catch((error) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    ),
  );
};
const address = await server.run();

let counts = {};
function kind(method, url) {
  const [path, query = ''] = url.split('?');
  const params = new URLSearchParams(query);
  const segments = path.split('/').filter((s) => s !== '');
  if (method === 'GET' && segments.length <= 1) return 'LIST';
  if (method === 'PUT' && params.has('partNumber')) return 'PUT part';
  if (method === 'POST' && params.has('uploads')) return 'POST initiate';
  if (method === 'POST' && params.has('uploadId')) return 'POST complete';
  if (method === 'PUT' && segments.length <= 1) return 'PUT bucket';
  return method;
}
server.httpServer.prependListener('request', (request, response) => {
  const label = kind(request.method ?? 'GET', request.url ?? '/');
  response.once('finish', () => {
    const key = `${label} ${response.statusCode}`;
    counts[key] = (counts[key] ?? 0) + 1;
  });
});

process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // close() waits for keep-alive sockets; a stuck client must not keep us alive.
  setTimeout(() => process.exit(0), 2000).unref();
  server.httpServer.closeAllConnections?.();
  await server.close().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', () => undefined); // the parent decides when we stop (Ctrl-C reaches the whole group)
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'counts') process.stdout.write(`${JSON.stringify({ counts })}\n`);
  else if (line === 'reset') {
    counts = {};
    process.stdout.write(`${JSON.stringify({ reset: true })}\n`);
  }
});
lines.on('close', stop);
