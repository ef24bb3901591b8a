// Runs one s3rver in its own process, for test/helpers/s3-server.ts.
// Started as `node --openssl-legacy-provider`: s3rver encrypts ListObjectsV2
// continuation tokens with DES, which OpenSSL 3 only offers in its legacy provider.
// Argument: JSON { directory, buckets }. Prints JSON { port } on stdout once listening.
// Stops on SIGTERM or when its stdin closes (the test process is gone).
import S3rver from 's3rver';

const { directory, buckets = [] } = JSON.parse(process.argv[2] ?? '{}');
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  resetOnClose: false,
  configureBuckets: buckets.map((name) => ({ name })),
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // close() waits for open keep-alive sockets; do not let a stuck client keep us alive.
  setTimeout(() => process.exit(0), 2000).unref();
  await server.close().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
