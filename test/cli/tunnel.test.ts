import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { insertAccount } from '../helpers/postgres.js';
import { ensureSshd, startSshd, type Sshd } from '../helpers/sshd.js';
import { createTestInstance, jobSummary, type TestInstance } from '../helpers/test-instance.js';

describe('[tunnel] reaches the database through SSH', () => {
  let instance: TestInstance;
  let sshd: Sshd;

  before(async () => {
    const missing = await ensureSshd();
    if (missing !== undefined) throw new Error(missing);
    [instance, sshd] = await Promise.all([createTestInstance(), startSshd()]);
    await insertAccount(instance.database.client, { id: '9', avatar_file_name: 'tttttttttttttttt.png', avatar_content_type: 'image/png' });
    await instance.seed('accounts/avatars/000/000/009/original/tttttttttttttttt.png', 'tunnelled', { contentType: 'image/png' });
  });
  after(async () => {
    await sshd.stop();
    await instance.close();
  });

  test('sync runs with the database only reachable through the tunnel', async () => {
    // The database URL names the server as the SSH host sees it; the CLI forwards a local port to it.
    const config = await instance.writeConfig({
      tunnel: { host: sshd.host, port: sshd.port, user: sshd.user, private_key_path: sshd.clientKeyPath },
    });
    const result = await runCli(['sync', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jobSummary(result.stdout, 'accounts').copied, 1);
    assert.equal((await instance.destinationObject('accounts/avatars/000/000/009/original/tttttttttttttttt.png'))?.body.toString(), 'tunnelled');
  });

  test('a key the SSH server refuses is one clear line', async () => {
    const config = await instance.writeConfig({
      tunnel: { host: sshd.host, port: sshd.port, user: sshd.user, private_key_path: '/nonexistent/key' },
    });
    const result = await runCli(['keys', '--config', config]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /key/);
  });
});
