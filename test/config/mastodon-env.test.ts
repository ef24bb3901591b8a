import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { readMastodonEnv } from '../../src/config/mastodon-env.js';
import { validateConfig } from '../../src/config/load-config.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mss-mastodon-env-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `text` as <dir>/<name>/.env.production, as it sits in a Mastodon root. */
async function envFile(name: string, text: string): Promise<string> {
  await mkdir(path.join(dir, name), { recursive: true });
  const file = path.join(dir, name, '.env.production');
  await writeFile(file, text);
  return file;
}

test('an S3 instance (as mastodon:setup writes it, with a MinIO-style endpoint)', async () => {
  const file = await envFile(
    's3',
    [
      '# Generated with mastodon:setup',
      'LOCAL_DOMAIN=example.social',
      'DB_HOST=/var/run/postgresql',
      'DB_USER=mastodon',
      'DB_NAME=mastodon_production',
      'DB_PASS=',
      'DB_PORT=5432',
      'S3_ENABLED=true',
      'S3_PROTOCOL=https',
      'S3_BUCKET=files.example.social',
      'S3_REGION=eu-central-1',
      'S3_ENDPOINT=https://minio.example.social',
      'S3_HOSTNAME=cdn.example.social',
      'S3_ALIAS_HOST=files.example.social',
      'S3_KEY_PREFIX=mastodon',
      'S3_STORAGE_CLASS=STANDARD_IA',
      'AWS_ACCESS_KEY_ID=AKIAEXAMPLE',
      'AWS_SECRET_ACCESS_KEY=secret/with+chars=',
      '',
    ].join('\n'),
  );
  assert.deepEqual(await readMastodonEnv(file), {
    database: { host: '/var/run/postgresql', port: '5432', user: 'mastodon', name: 'mastodon_production' },
    source: {
      type: 's3',
      region: 'eu-central-1',
      bucket: 'files.example.social',
      access_key_id: 'AKIAEXAMPLE',
      secret_access_key: 'secret/with+chars=',
      prefix: 'mastodon',
      endpoint: 'https://minio.example.social',
      force_path_style: 'true',
    },
  });
});

test('S3 on AWS: no endpoint (S3_HOSTNAME only shapes URLs), default region, S3_PERMISSION as the ACL hint', async () => {
  const file = await envFile('aws', 'S3_ENABLED=true\nS3_BUCKET=b\nS3_HOSTNAME=s3-eu-west-1.amazonaws.com\nS3_PERMISSION=private\nAWS_ACCESS_KEY_ID=a\nAWS_SECRET_ACCESS_KEY=s\n');
  const sections = await readMastodonEnv(file);
  assert.deepEqual(sections['source'], { type: 's3', region: 'us-east-1', bucket: 'b', access_key_id: 'a', secret_access_key: 's' });
  assert.deepEqual(sections['sync'], { acl: 'private' });
});

test('S3_OVERRIDE_PATH_STYLE=true means virtual-host style; an empty S3_PERMISSION means no ACL', async () => {
  const file = await envFile('override', 'S3_ENABLED=true\nS3_ENDPOINT=https://s3.wasabisys.com\nS3_OVERRIDE_PATH_STYLE=true\nS3_PERMISSION=\n');
  const sections = await readMastodonEnv(file);
  assert.equal(sections['source']?.['force_path_style'], 'false');
  assert.deepEqual(sections['sync'], { acl: 'none' });
});

test('other S3_PERMISSION values are public-read; without S3_PERMISSION no hint', async () => {
  const withPermission = await readMastodonEnv(await envFile('public', 'S3_ENABLED=true\nS3_PERMISSION=public-read\n'));
  assert.deepEqual(withPermission['sync'], { acl: 'public-read' });
  const without = await readMastodonEnv(await envFile('no-permission', 'S3_ENABLED=true\n'));
  assert.equal(without['sync'], undefined);
});

test('a file-storage instance reads <rails root>/public/system, and the database defaults of database.yml', async () => {
  const file = await envFile('fs', 'LOCAL_DOMAIN=example.social\nS3_ENABLED=false\nS3_PERMISSION=private\n');
  assert.deepEqual(await readMastodonEnv(file), {
    database: { host: 'localhost', port: '5432', user: 'mastodon', name: 'mastodon_production' },
    source: { type: 'fs', path: path.join(dir, 'fs', 'public', 'system') },
  });
});

test('PAPERCLIP_ROOT_PATH overrides the file root; a relative one is taken from the rails root', async () => {
  const absolute = await readMastodonEnv(await envFile('fs-absolute', 'PAPERCLIP_ROOT_PATH=/srv/mastodon/system\n'));
  assert.deepEqual(absolute['source'], { type: 'fs', path: '/srv/mastodon/system' });
  const relative = await readMastodonEnv(await envFile('fs-relative', 'PAPERCLIP_ROOT_PATH=media\n'));
  assert.deepEqual(relative['source'], { type: 'fs', path: path.join(dir, 'fs-relative', 'media') });
});

test('PAPERCLIP_ROOT_PATH is a Paperclip template: :rails_root and :rails_env are filled in as Mastodon does', async () => {
  const templated = await readMastodonEnv(await envFile('fs-template', 'PAPERCLIP_ROOT_PATH=:rails_root/public/:rails_env-system\n'));
  assert.deepEqual(templated['source'], { type: 'fs', path: path.join(dir, 'fs-template', 'public', 'production-system') });
});

test('an instance on Swift or Azure is refused in one line that says what to do, not read as an empty disk', async () => {
  for (const [name, variable, backend] of [['swift', 'SWIFT_ENABLED', 'OpenStack Swift'], ['azure', 'AZURE_ENABLED', 'Azure Blob Storage']] as const) {
    const file = await envFile(name, `${variable}=true\nPAPERCLIP_ROOT_PATH=/srv/system\n`);
    await assert.rejects(readMastodonEnv(file), (error) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.message, `the Mastodon env file stores media on ${backend}, which this tool cannot read: copy the media to S3 or a directory first, then write [source] in the config file instead of using --mastodon-env for it`);
      return true;
    });
  }
  // S3 comes first in Mastodon's paperclip.rb: a leftover SWIFT_ENABLED does not matter then.
  const s3First = await readMastodonEnv(await envFile('s3-and-swift', 'S3_ENABLED=true\nSWIFT_ENABLED=true\nS3_BUCKET=b\n'));
  assert.equal(s3First['source']?.['type'], 's3');
});

test('S3_KEY_PREFIX is kept as written: a trailing slash is part of Mastodon\'s keys', async () => {
  const sections = await readMastodonEnv(await envFile('prefix-slash', 'S3_ENABLED=true\nS3_BUCKET=b\nAWS_ACCESS_KEY_ID=a\nAWS_SECRET_ACCESS_KEY=s\nS3_KEY_PREFIX=media/\n'));
  const config = validateConfig({ ...sections, destination: { type: 'fs', path: '/tmp/x' } });
  assert.equal(config.source.type === 's3' ? config.source.prefix : undefined, 'media/');
});

test('DATABASE_URL wins over the DB_* parts; DB_SSLMODE maps to ssl', async () => {
  const file = await envFile('url', 'DB_HOST=db\nDB_NAME=ignored\nDATABASE_URL=postgres://mastodon:pw@db.internal:6432/mastodon\nDB_SSLMODE=require\n');
  assert.deepEqual((await readMastodonEnv(file))['database'], { url: 'postgres://mastodon:pw@db.internal:6432/mastodon', ssl: 'true' });
  const disabled = await readMastodonEnv(await envFile('sslmode', 'DB_SSLMODE=disable\nDB_PASS=pw\n'));
  assert.equal(disabled['database']?.['ssl'], 'false');
  assert.equal(disabled['database']?.['password'], 'pw');
  const preferred = await readMastodonEnv(await envFile('sslmode-prefer', 'DB_SSLMODE=prefer\n'));
  assert.equal(preferred['database']?.['ssl'], undefined);
});

test('quotes, comments, export prefixes, CRLF and blank lines are read as Mastodon reads them', async () => {
  const file = await envFile(
    'quoting',
    [
      'export DB_HOST=db.internal   # trailing comment',
      '',
      '   # indented comment',
      'DB_PASS="p#ss w\'ord"',
      "DB_USER='mastodon user'",
      'DB_NAME="multi\\nline"',
      'S3_ENABLED="true"',
      'AWS_SECRET_ACCESS_KEY=abc#def',
      'S3_BUCKET=bucket # comment',
    ].join('\r\n'),
  );
  const sections = await readMastodonEnv(file);
  assert.deepEqual(sections['database'], { host: 'db.internal', port: '5432', user: 'mastodon user', password: "p#ss w'ord", name: 'multi\nline' });
  assert.equal(sections['source']?.['type'], 's3');
  assert.equal(sections['source']?.['bucket'], 'bucket');
  // An unquoted value ends at #, in Node's dotenv as in the Ruby dotenv Mastodon reads it with.
  assert.equal(sections['source']?.['secret_access_key'], 'abc');
});

test('the sections validate against the config schema once a destination is added', async () => {
  const file = await envFile('valid', 'S3_ENABLED=true\nS3_BUCKET=b\nS3_ENDPOINT=http://127.0.0.1:9000\nAWS_ACCESS_KEY_ID=a\nAWS_SECRET_ACCESS_KEY=s\nS3_PERMISSION=\nDB_SSLMODE=disable\n');
  const config = validateConfig({ ...(await readMastodonEnv(file)), destination: { type: 'fs', path: '/tmp/out' } });
  assert.equal(config.source.type, 's3');
  assert.equal(config.sync.acl, 'none');
  assert.equal(config.database.port, 5432);
  assert.equal(config.database.ssl, false);
});

test('a missing file is config.mastodon-env', async () => {
  const missing = path.join(dir, 'nowhere', '.env.production');
  await assert.rejects(readMastodonEnv(missing), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.code, 'config.mastodon-env');
    assert.match(error.message, /ENOENT/);
    assert.ok(error.message.includes(missing));
    return true;
  });
});

test('a folder given instead of the file is config.mastodon-env', async () => {
  await assert.rejects(readMastodonEnv(dir), (error: unknown) => error instanceof UserError && error.code === 'config.mastodon-env' && /EISDIR/.test(error.message));
});
