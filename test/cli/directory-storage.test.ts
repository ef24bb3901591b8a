/**
 * A Mastodon admin's two disk migrations, end to end through the built CLI: S3 back to the
 * directory Mastodon serves (`public/system`), and that directory as the source. What is checked
 * is what the admin sees: the files, their modes, the lines printed and the exit codes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { insertMediaAttachment } from '../helpers/postgres.js';
import { createTestInstance, type TestInstance } from '../helpers/test-instance.js';

/** Every file and directory below `directory`, relative, with its permission bits. */
async function modesOnDisk(directory: string): Promise<{ files: Map<string, number>; directories: Map<string, number> }> {
  const files = new Map<string, number>();
  const directories = new Map<string, number>();
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const mode = (await stat(full)).mode & 0o7777;
    (entry.isDirectory() ? directories : files).set(path.relative(directory, full), mode);
  }
  return { files, directories };
}

/** Runs the CLI under `umask`, as a shell whose umask is that would. */
const withUmask = (umask: string): string[] => ['sh', '-c', `umask ${umask} && exec "$@"`, 'sh'];

describe('S3 back to a directory that Mastodon then serves', () => {
  let instance: TestInstance;
  /** Every key the rows reference, with its bytes. */
  const expected = new Map<string, Buffer>();

  before(async () => {
    instance = await createTestInstance();
    for (let row = 0; row < 3; row += 1) {
      const id = String(300_000 + row);
      const name = `${randomBytes(8).toString('hex')}.png`;
      await insertMediaAttachment(instance.database.client, { id, file_file_name: name, file_content_type: 'image/png', type: 0 });
      for (const style of ['original', 'small']) {
        const key = `media_attachments/files/000/${id.slice(0, 3)}/${id.slice(3)}/${style}/${name}`;
        const body = randomBytes(512);
        expected.set(key, body);
        await instance.seed(key, body, { contentType: 'image/png' });
      }
    }
  });
  after(() => instance.close());

  test("files and directories get the modes Mastodon's own get: 0666 and 0777 less the umask", async () => {
    for (const [umask, fileMode, directoryMode] of [
      ['022', 0o644, 0o755],
      ['002', 0o664, 0o775],
      ['027', 0o640, 0o750],
    ] as const) {
      const target = path.join(instance.directory, `system-umask-${umask}`);
      await mkdir(target);
      const config = await instance.writeConfig({ destination: { type: 'fs', path: target } }, `umask-${umask}.ini`);
      const result = await runCli(['sync', '--config', config, '--no-state'], { launcher: withUmask(umask) });
      assert.equal(result.code, 0, result.stderr);
      const { files, directories } = await modesOnDisk(target);
      assert.deepEqual([...files.keys()].sort(), [...expected.keys()].sort());
      for (const [file, mode] of files) assert.equal(mode.toString(8), fileMode.toString(8), `umask ${umask}: ${file}`);
      for (const [directory, mode] of directories) assert.equal(mode.toString(8), directoryMode.toString(8), `umask ${umask}: ${directory}/`);
      for (const [key, body] of expected) assert.ok((await readFile(path.join(target, key))).equals(body), key);
    }
  });
});
