/** `npm run local-s3`: a local S3 endpoint (s3rver). */
import { toolArguments } from '../tool-arguments.js';
import { s3rverCredentials, s3rverRegion, startLocalS3 } from './local-s3.js';

const usage = `
npm run local-s3 -- [--port 4568] [--bucket media ...] [--directory DIR]

A local S3 endpoint (s3rver) to try the tool or the generator without a cloud account. Runs until
Ctrl-C; without --directory its objects live in a temporary directory that Ctrl-C removes.
`;

const values = toolArguments('local-s3', usage, {
  options: {
    port: { type: 'string', default: '4568' },
    bucket: { type: 'string', multiple: true, default: ['media'] },
    directory: { type: 'string' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`local-s3: --port must be a port number, not ${values.port}\n`);
  process.exit(2);
}
const server = await startLocalS3({ port, buckets: values.bucket, ...(values.directory !== undefined ? { directory: values.directory } : {}) }).catch((error: unknown) => {
  process.stderr.write(`local-s3: cannot start s3rver on 127.0.0.1:${port} (${(error as Error).message}): is the port taken? Try --port 0 for a free one\n`);
  process.exit(2);
});
process.stdout.write(
  [
    `local-s3: ${server.endpoint}, buckets ${values.bucket.join(', ')}, objects in ${server.directory}`,
    `  config: type = s3, endpoint = ${server.endpoint}, region = ${s3rverRegion}, access_key_id = ${s3rverCredentials.accessKeyId}, secret_access_key = ${s3rverCredentials.secretAccessKey}`,
    '  Ctrl-C stops it.',
    '',
  ].join('\n'),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
