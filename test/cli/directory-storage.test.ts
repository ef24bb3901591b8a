/**
 * A Mastodon admin's two disk migrations, end to end through the built CLI: S3 back to the
 * directory Mastodon serves (`public/system`), and that directory as the source. What is checked
 * is what the admin sees: the files, their modes, the lines printed and the exit codes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { insertAccount } from '../helpers/postgres.js';
import { createTestInstance, insertImages, jobSummary, type TestInstance } from '../helpers/test-instance.js';

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

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Runs the CLI under `umask`, as a shell whose umask is that would. */
const withUmask = (umask: string): string[] => ['sh', '-c', `umask ${umask} && exec "$@"`, 'sh'];

describe('S3 back to a directory that Mastodon then serves', () => {
  let instance: TestInstance;
  /** Every key the rows reference, with its bytes. */
  const expected = new Map<string, Buffer>();

  before(async () => {
    instance = await createTestInstance();
    for (const [key, body] of await insertImages(instance, 300_000, 3)) {
      expected.set(key, body);
      await instance.seed(key, body, { contentType: 'image/png' });
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

  test('re-runs skip what the directory holds; verify compares sizes (a directory keeps no MD5) and says so; orphans finds none', async () => {
    const target = path.join(instance.directory, 'rerun-system');
    await mkdir(target);
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target } }, 'rerun.ini');
    const first = await runCli(['sync', '--config', config, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(jobSummary(first.stdout, 'media_attachments').copied, expected.size);
    for (const flags of [[], ['--inventory'], ['--no-state']]) {
      const again = await runCli(['sync', '--config', config, '--json', ...flags]);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual([jobSummary(again.stdout, 'media_attachments').copied, jobSummary(again.stdout, 'media_attachments').skipped], [0, expected.size], flags.join(' '));
    }

    const verified = await runCli(['verify', '--config', config]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stderr.trim().split('\n').at(-1), `verified: every referenced object the source has is in directory ${target} with the same size (a directory keeps no MD5, so sizes only)`);
    const orphans = await runCli(['orphans', '--in', 'destination', '--config', config]);
    assert.equal(orphans.code, 0, orphans.stderr);
    assert.equal(orphans.stdout, '');

    const [truncated] = [...expected.keys()];
    await writeFile(path.join(target, truncated!), 'cut');
    const differs = await runCli(['verify', '--config', config]);
    assert.equal(differs.code, 1, differs.stderr);
    assert.match(differs.stdout, new RegExp(`^size differs  ${truncated} \\(source 512 bytes, destination 3 bytes\\)$`, 'm'));
  });

  test("run as root into a directory another user owns (Mastodon's): the files are root's, and a warning names the user and the chown that fixes it", async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root');
      return;
    }
    const mastodon = { uid: 991, gid: 992 };
    const target = path.join(instance.directory, 'owned-system');
    await mkdir(target);
    await chown(target, mastodon.uid, mastodon.gid);
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target } }, 'owned.ini');
    const warning = `[destination] directory ${target} belongs to uid ${mastodon.uid} (gid ${mastodon.gid}), and this run is root's: what it writes will be root's, and Mastodon, if it runs as that user, can then neither delete those files nor add its own beside them: run the tool as that user (sudo -u <user>), or chown -R ${mastodon.uid}:${mastodon.gid} ${target} after the run`;
    const result = await runCli(['sync', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.split('\n').filter((line) => line.includes(warning)).length, 1, result.stderr);
    for (const key of expected.keys()) assert.equal((await stat(path.join(target, key))).uid, 0, key);

    // A directory root owns: nothing to say.
    const rootOwned = path.join(instance.directory, 'root-system');
    await mkdir(rootOwned);
    const quiet = await runCli(['sync', '--config', await instance.writeConfig({ destination: { type: 'fs', path: rootOwned } }, 'root-owned.ini')]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /belongs to uid/);
  });

  test('file names as legacy rows hold them (spaces, unicode in both normal forms, +, %, #, ?, quotes, a backslash, a tab) go to disk and back to S3 unchanged', async () => {
    const names = ['IMG 2041.JPG', 'caf\u00e9.png', 'cafe\u0301.png', 'a+b%20c.png', 'hash#q?.png', `quote'"&.png`, '\u{1F600} smile.png', 'back\\slash.png', 'tab\there.png'];
    const objects = new Map<string, Buffer>();
    for (const [index, name] of names.entries()) {
      const id = String(500_000 + index);
      await insertAccount(instance.database.client, { id, avatar_file_name: name, avatar_content_type: 'image/png' });
      const key = `accounts/avatars/000/${id.slice(0, 3)}/${id.slice(3)}/original/${name}`;
      objects.set(key, randomBytes(64));
      await instance.seed(key, objects.get(key)!, { contentType: 'image/png' });
    }
    const target = path.join(instance.directory, 'legacy-names');
    await mkdir(target);
    const toDisk = await instance.writeConfig({ destination: { type: 'fs', path: target } }, 'legacy-to-disk.ini');
    const copied = await runCli(['sync', 'accounts', '--config', toDisk, '--json']);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(jobSummary(copied.stdout, 'accounts').copied, names.length);
    for (const [key, body] of objects) assert.ok((await readFile(path.join(target, key))).equals(body), key);
    const verified = await runCli(['verify', 'accounts', '--config', toDisk]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    const fromDisk = await instance.writeConfig({ source: { type: 'fs', path: target } }, 'legacy-from-disk.ini');
    const back = await runCli(['sync', 'accounts', '--config', fromDisk, '--json']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(jobSummary(back.stdout, 'accounts').copied, names.length);
    for (const [key, body] of objects) assert.ok((await instance.destinationObject(key))?.body.equals(body), key);
  });

  test('a [destination] path through a symbolic link to a missing directory (a disk not mounted) names the link and its target, not mkdir -p', async () => {
    const disk = path.join(instance.directory, 'unmounted-disk');
    const live = path.join(instance.directory, 'dangling-destination', 'public');
    await mkdir(live, { recursive: true });
    await symlink(path.join(disk, 'system'), path.join(live, 'system'));
    const config = await instance.writeConfig({ destination: { type: 'fs', path: path.join(live, 'system') } }, 'dangling-destination.ini');
    const result = await runCli(['sync', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      `mastodon-s3-sync: [destination] ${path.join(live, 'system')} is a symbolic link to ${path.join(disk, 'system')}, which does not exist (is its disk mounted?): mount it or create ${path.join(disk, 'system')}, or correct "path"`,
    ]);
    assert.deepEqual(await readdir(live), ['system']);
  });

  test('a folder of the destination linked to a missing directory stops the run before any object, naming the link', async () => {
    const target = path.join(instance.directory, 'dangling-folder');
    await mkdir(target);
    const elsewhere = path.join(instance.directory, 'unmounted-media');
    await symlink(elsewhere, path.join(target, 'media_attachments'));
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target } }, 'dangling-folder.ini');
    const result = await runCli(['sync', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      `mastodon-s3-sync: [destination] ${path.join(target, 'media_attachments')} is a symbolic link to ${elsewhere}, which does not exist (is its disk mounted?): mount it or create ${elsewhere}, or remove the link`,
    ]);
    assert.deepEqual(await readdir(target), ['media_attachments']);
  });

  test('a deeper folder of the destination linked to a missing directory stops the run at the first write below it, naming the link, not "a file stands where a directory is needed"', async () => {
    const target = path.join(instance.directory, 'dangling-deep');
    const files = path.join(target, 'media_attachments', 'files', '000');
    await mkdir(files, { recursive: true });
    const elsewhere = path.join(instance.directory, 'unmounted-partition');
    await symlink(elsewhere, path.join(files, '300'));
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target }, sync: { concurrency: 1 } }, 'dangling-deep.ini');
    const result = await runCli(['sync', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr.trim().split('\n').at(-1)!,
      new RegExp(
        `^mastodon-s3-sync: writing to the destination: EEXIST: ${escape(path.join(files, '300'))} is a symbolic link to ${escape(elsewhere)}, which does not exist \\(is its disk mounted\\?\\) writing ${escape(files)}/300/\\S+: ` +
          'stopped the run; mount its disk or create its target, or remove the link and run sync again \\(what was copied is kept\\)$',
      ),
    );
    assert.deepEqual(await readdir(files), ['300']);
  });
});

describe('a directory as the source', () => {
  let instance: TestInstance;
  /** Laid out as Mastodon lays out its rails root: `live/public/system` holds the media. */
  let live: string;
  let system: string;
  let keys: string[];

  before(async () => {
    instance = await createTestInstance();
    live = path.join(instance.directory, 'live');
    system = path.join(live, 'public', 'system');
    keys = [];
    for (const [key, body] of await insertImages(instance, 400_000, 2)) {
      await mkdir(path.dirname(path.join(system, key)), { recursive: true });
      await writeFile(path.join(system, key), body);
      keys.push(key);
    }
  });
  after(() => instance.close());

  test('a folder of the source linked to a missing directory is refused before anything is read: its objects would count as missing, and a re-run would not look again', async () => {
    const source = path.join(instance.directory, 'source-with-dangling-cache');
    await mkdir(source);
    const elsewhere = path.join(instance.directory, 'unmounted-cache');
    await symlink(elsewhere, path.join(source, 'cache'));
    const config = await instance.writeConfig({ source: { type: 'fs', path: source } }, 'dangling-source.ini');
    for (const command of [['sync'], ['verify'], ['orphans', '--in', 'source']]) {
      const result = await runCli([...command, '--config', config]);
      assert.equal(result.code, 2, `${command[0]}: ${result.stderr}`);
      assert.deepEqual(result.stderr.trim().split('\n'), [
        `mastodon-s3-sync: [source] ${path.join(source, 'cache')} is a symbolic link to ${elsewhere}, which does not exist (is its disk mounted?): mount it, or remove the link`,
      ], command[0]);
    }
    assert.deepEqual(await instance.destinationKeys(), []);
  });

  test('a deeper folder of the source linked to a missing directory fails its objects, naming the link, instead of counting them missing; once mounted, the next run copies them', async () => {
    const source = path.join(instance.directory, 'source-with-dangling-partition');
    const files = path.join(source, 'media_attachments', 'files', '000');
    await mkdir(files, { recursive: true });
    const disk = path.join(instance.directory, 'partition-disk');
    await symlink(disk, path.join(files, '400'));
    const config = await instance.writeConfig({ source: { type: 'fs', path: source }, destination: { type: 'fs', path: await mkdtemp(path.join(instance.directory, 'to-')) } }, 'dangling-partition.ini');
    const result = await runCli(['sync', '--config', config, '--json']);
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual([jobSummary(result.stdout, 'media_attachments').missing, jobSummary(result.stdout, 'media_attachments').failed], [0, keys.length]);
    const report = await runCli(['report', '--config', config]);
    assert.match(report.stdout, new RegExp(`^failed +media_attachments/files/000/400/000/original/\\S+ +\\(reading from the source: ${escape(path.join(files, '400'))} is a symbolic link to ${escape(disk)}, which does not exist \\(is its disk mounted\\?\\)\\)$`, 'm'));

    // The disk is back: the objects it holds are copied, not taken as settled.
    await mkdir(disk);
    for (const key of keys) {
      if (!key.startsWith('media_attachments/files/000/400/')) continue;
      await mkdir(path.dirname(path.join(files, key.slice('media_attachments/files/000/'.length))), { recursive: true });
      await writeFile(path.join(files, key.slice('media_attachments/files/000/'.length)), await readFile(path.join(system, key)));
    }
    const again = await runCli(['sync', '--config', config, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(jobSummary(again.stdout, 'media_attachments').copied, keys.length);
  });

  test('a source file changed in place after its copy: verify names the sync that copies it again (--inventory checks only the destination), and that sync does', async () => {
    const source = path.join(instance.directory, 'edited-system');
    for (const key of keys) {
      await mkdir(path.dirname(path.join(source, key)), { recursive: true });
      await writeFile(path.join(source, key), await readFile(path.join(system, key)));
    }
    const destination = await mkdtemp(path.join(instance.directory, 'edited-to-'));
    const config = await instance.writeConfig({ source: { type: 'fs', path: source }, destination: { type: 'fs', path: destination } }, 'edited.ini');
    assert.equal((await runCli(['sync', '--config', config])).code, 0);
    await writeFile(path.join(source, keys[0]!), 'restored from an older backup');

    const verify = await runCli(['verify', '--config', config]);
    assert.equal(verify.code, 1, verify.stderr);
    assert.equal(
      verify.stderr.trim().split('\n').at(-1),
      `1 object missing or different in directory ${destination}: sync --inventory copies again what changed at the destination, sync --no-state also what changed in the source`,
    );
    const inventory = await runCli(['sync', '--config', config, '--inventory', '--json']);
    assert.equal(jobSummary(inventory.stdout, 'media_attachments').copied, 0, 'the destination still matches what the state file recorded');
    const noState = await runCli(['sync', '--config', config, '--no-state', '--json']);
    assert.equal(jobSummary(noState.stdout, 'media_attachments').copied, 1, noState.stderr);
    const verified = await runCli(['verify', '--config', config]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.equal(await readFile(path.join(destination, keys[0]!), 'utf8'), 'restored from an older backup');
  });

  test("a [source] path one level above public/system: sync and verify fail and orphans says that no object is there, each naming the public/system below it", async () => {
    const public_ = path.join(live, 'public');
    const config = await instance.writeConfig({ source: { type: 'fs', path: public_ } }, 'above-system.ini');
    const hint = `[source] directory ${public_} holds none of the 4 objects the database references: "path" must be Mastodon's public/system (PAPERCLIP_ROOT_PATH) and its disk mounted; did you mean ${system}?`;

    const sync = await runCli(['sync', '--config', config]);
    assert.equal(sync.code, 2, sync.stderr);
    assert.match(sync.stdout, /^total +2 +4 +0 +0 +2 +2 +0 /m);
    assert.equal(sync.stderr.trim().split('\n').at(-1), `mastodon-s3-sync: ${hint}; nothing was recorded as missing`);
    assert.deepEqual(await instance.destinationKeys(), []);

    const verify = await runCli(['verify', '--config', config]);
    assert.equal(verify.code, 2, verify.stderr);
    assert.equal(verify.stderr.trim().split('\n').at(-1), `mastodon-s3-sync: ${hint}; nothing was verified`);

    const orphans = await runCli(['orphans', '--in', 'source', '--config', config]);
    assert.equal(orphans.code, 0, orphans.stderr);
    assert.equal(orphans.stdout, '');
    assert.deepEqual(orphans.stderr.trim().split('\n').slice(-2), [
      `directory ${public_}: 4 objects, 0 referenced, 0 orphans (0 B), 4 not Mastodon-shaped (2.0 KB; list them with --unrecognized). Nothing was deleted.`,
      `[source] directory ${public_}: none of its 4 objects is where Mastodon puts media: "path" must be Mastodon's public/system (PAPERCLIP_ROOT_PATH); did you mean ${system}?`,
    ]);

    // The right path: every object found, and no such line.
    const right = await instance.writeConfig({ source: { type: 'fs', path: system } }, 'system.ini');
    const copied = await runCli(['sync', '--config', right]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.doesNotMatch(copied.stderr, /holds none|did you mean/);
    assert.deepEqual(await instance.destinationKeys(), [...keys].sort());
  });
});

test("the sample config's [source] turned into a directory as its comments say, keys of type = s3 left above: one line saying to delete them", async () => {
  const instance = await createTestInstance();
  try {
    const sample = await readFile(new URL('../../private/config.sample.ini', import.meta.url), 'utf8');
    const edited = sample
      .replace(/^name = mastodon_production$/m, `name = ${new URL(instance.database.url).pathname.slice(1)}`)
      .replace(/^user = mastodon$/m, `user = ${new URL(instance.database.url).username}`)
      .replace('endpoint = https://<account>.r2.cloudflarestorage.com', `endpoint = ${instance.destinationServer.endpoint}`)
      .replace(/^; type = fs\n; path = \/home\/mastodon\/live\/public\/system\n\n\[destination\]/m, `type = fs\npath = ${instance.directory}\n\n[destination]`);
    assert.notEqual(edited, sample);
    const config = path.join(instance.directory, 'from-sample.ini');
    await writeFile(config, edited);
    const result = await runCli(['sync', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      'mastodon-s3-sync: [source] "endpoint", "region", "bucket", "access_key_id", "secret_access_key" belong to type = s3, and this section is type = fs (path, prefix): delete them',
    ]);
  } finally {
    await instance.close();
  }
});
