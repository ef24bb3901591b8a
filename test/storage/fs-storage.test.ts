import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { InvalidKeyError, StorageWriteError } from '../../src/storage/errors.js';
import { FsStorage } from '../../src/storage/fs/fs-storage.js';
import { TmpfsMounts } from '../helpers/tmpfs.js';
import { runStorageContract } from './storage-contract.js';
import { failingStream, listAll, listKeys, readBytes, writeBytes } from './storage-helpers.js';

async function tempDirectory(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'mss-fs-storage-'));
}

/** Every file below `directory`, relative, including hidden ones: what is really on disk. */
async function filesOnDisk(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

runStorageContract('FsStorage on a temporary directory', async () => {
  const root = await tempDirectory();
  return {
    storage: new FsStorage({ type: 'fs', root }),
    withPrefix: (prefix) => new FsStorage({ type: 'fs', root, prefix }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FsStorage', () => {
  let root: string;
  before(async () => {
    root = await tempDirectory();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('lays keys out as files exactly like public/system, under the prefix sub-folder', async () => {
    const base = path.join(root, 'layout');
    await mkdir(base);
    const storage = new FsStorage({ type: 'fs', root: base, prefix: 'system' });
    await writeBytes(storage, 'media_attachments/files/110/000/000/original/abc.jpg', Buffer.from('jpeg'));
    assert.equal(await readFile(path.join(base, 'system/media_attachments/files/110/000/000/original/abc.jpg'), 'utf8'), 'jpeg');
    assert.deepEqual(await filesOnDisk(base), ['system/media_attachments/files/110/000/000/original/abc.jpg']);
    assert.equal(storage.description, `directory ${path.join(base, 'system')}`);
  });

  test('derives Content-Type from the extension and reports no ETag or Cache-Control', async () => {
    const storage = new FsStorage({ type: 'fs', root });
    await writeBytes(storage, 'types/clip.mp4', Buffer.from('m'), { contentType: 'text/plain', cacheControl: 'no-store' });
    await writeBytes(storage, 'types/no-extension', Buffer.from('n'));
    assert.deepEqual(await storage.head('types/clip.mp4'), { key: 'types/clip.mp4', size: 1, contentType: 'video/mp4' });
    assert.deepEqual(await storage.head('types/no-extension'), { key: 'types/no-extension', size: 1 });
  });

  test('lists files found through symbolic links, skips unfinished writes and directories', async () => {
    const base = await mkdtemp(path.join(root, 'links-'));
    const elsewhere = await mkdtemp(path.join(root, 'elsewhere-'));
    await writeFile(path.join(elsewhere, 'moved.png'), 'png');
    await mkdir(path.join(base, 'cache'));
    await symlink(elsewhere, path.join(base, 'cache', 'linked'));
    await symlink(base, path.join(base, 'cache', 'loop'));
    await writeFile(path.join(base, 'cache', '.mss-partial-123-abc'), 'half');
    await mkdir(path.join(base, 'empty-dir'));
    const storage = new FsStorage({ type: 'fs', root: base });
    assert.deepEqual(await listAll(storage), [{ key: 'cache/linked/moved.png', size: 3, contentType: 'image/png' }]);
    assert.equal(await storage.head('empty-dir'), undefined);
    assert.equal(await storage.read('empty-dir'), undefined);
  });

  test('refuses keys that would leave the root', async () => {
    const storage = new FsStorage({ type: 'fs', root: path.join(root, 'jail') });
    for (const key of ['../escape.txt', 'a/../../escape.txt', '/etc/passwd', 'a//b', 'a/./b', 'dir/', '', 'a/.mss-partial-x', 'nul\0byte']) {
      await assert.rejects(storage.write(key, Readable.from([Buffer.from('x')]), {}), InvalidKeyError, `write ${JSON.stringify(key)}`);
      await assert.rejects(storage.head(key), InvalidKeyError, `head ${JSON.stringify(key)}`);
    }
    await assert.rejects(async () => listKeys(storage, '../'), InvalidKeyError);
    await assert.rejects(readdir(path.join(root, 'escape.txt')));
  });

  test('a source failing mid-way leaves no temporary file in the directory', async () => {
    const base = await mkdtemp(path.join(root, 'partial-'));
    const storage = new FsStorage({ type: 'fs', root: base });
    const dropped = new Error('dropped');
    await assert.rejects(storage.write('deep/dir/file.bin', failingStream(3 * 1024 * 1024, dropped), { size: 5 * 1024 * 1024 }), (error) => error === dropped);
    assert.deepEqual(await filesOnDisk(base), []);
  });

  test('close() with writes still in flight (a run abandoning them) fails them and leaves no temporary file', async () => {
    const base = await mkdtemp(path.join(root, 'abandoned-'));
    const storage = new FsStorage({ type: 'fs', root: base });
    // A source that sends a part of the body, then nothing more (a stalled download).
    const stalled = (): Readable => new Readable({ read() {} }).once('resume', function (this: Readable) {
      this.push(randomBytes(64 * 1024));
    });
    const writes = [storage.write('media_attachments/files/1/video.mp4', stalled(), { size: 1024 * 1024 }), storage.write('other.bin', stalled(), {})];
    const outcomes = Promise.allSettled(writes);
    while ((await filesOnDisk(base)).length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await storage.close();
    assert.deepEqual(await filesOnDisk(base), []);
    assert.deepEqual((await outcomes).map((outcome) => outcome.status), ['rejected', 'rejected']);
  });

  test('a file standing where a directory is needed fails the write with a clear code and no partial file', async () => {
    const base = await mkdtemp(path.join(root, 'conflict-'));
    const storage = new FsStorage({ type: 'fs', root: base });
    await writeBytes(storage, 'media_attachments', Buffer.from('a file, not a directory'));
    await assert.rejects(writeBytes(storage, 'media_attachments/files/1.png', Buffer.from('png')), (error) => {
      assert.ok(error instanceof StorageWriteError);
      assert.equal(error.code, 'storage.path-conflict');
      assert.match(error.message, /ENOTDIR|EEXIST/);
      assert.ok(error.message.includes(path.join(base, 'media_attachments/files/1.png')));
      return true;
    });
    assert.deepEqual(await filesOnDisk(base), ['media_attachments']);
  });

  test('a file name longer than the file system takes (an S3 key may have up to 1,024 bytes) fails that write, saying so, and leaves nothing', async () => {
    const base = await mkdtemp(path.join(root, 'long-name-'));
    const storage = new FsStorage({ type: 'fs', root: base });
    await assert.rejects(writeBytes(storage, `imports/data/000/000/001/original/${'n'.repeat(300)}.csv`, Buffer.from('csv')), (error) => {
      assert.ok(error instanceof StorageWriteError);
      assert.equal(error.code, 'storage.name-too-long');
      assert.match(error.message, /^ENAMETOOLONG: a file name longer than the destination's file system takes writing /);
      return true;
    });
    assert.deepEqual(await filesOnDisk(base), []);
  });

  describe('check', () => {
    test('a missing directory is storage.no-directory, naming the path; mkdir -p only for one to write', async () => {
      const missing = path.join(root, 'does', 'not', 'exist');
      for (const [mode, fix] of [
        ['read', 'correct "path"'],
        ['write', `mkdir -p ${missing}`],
      ] as const) {
        await assert.rejects(new FsStorage({ type: 'fs', root: missing }).check(mode), (error) => {
          assert.ok(error instanceof UserError);
          assert.equal(error.code, 'storage.no-directory');
          assert.ok(error.message.includes(missing), error.message);
          assert.ok(error.message.includes(fix), error.message);
          assert.equal(error.message.includes('mkdir'), mode === 'write', error.message);
          return true;
        });
      }
    });

    test('a regular file given as the directory (or as a parent of it) is storage.no-directory', async () => {
      const file = path.join(root, 'a-regular-file');
      await writeFile(file, 'not a directory');
      for (const candidate of [file, path.join(file, 'below')]) {
        for (const mode of ['read', 'write'] as const) {
          await assert.rejects(new FsStorage({ type: 'fs', root: candidate }).check(mode), { code: 'storage.no-directory' }, `${mode} ${candidate}`);
        }
      }
    });

    test('a missing prefix sub-folder fails a read check but is created by a write check', async () => {
      const base = await mkdtemp(path.join(root, 'prefix-check-'));
      const storage = new FsStorage({ type: 'fs', root: base, prefix: 'system' });
      await assert.rejects(storage.check('read'), { code: 'storage.no-directory' });
      await storage.check('write');
      await storage.check('read');
      assert.deepEqual(await readdir(path.join(base, 'system')), []);
    });
  });

  describe('on a read-only or full file system (tmpfs mounts)', () => {
    const tmpfs = new TmpfsMounts();
    after(() => tmpfs.unmountAll());

    test('a read-only mount fails check(write) with storage.not-writable and writes with storage.read-only', async (t) => {
      const target = await tmpfs.mount(t, 'size=1m,ro');
      if (target === undefined) return;
      const storage = new FsStorage({ type: 'fs', root: target });
      await storage.check('read');
      await assert.rejects(storage.check('write'), (error) => {
        assert.ok(error instanceof UserError);
        assert.equal(error.code, 'storage.not-writable');
        assert.match(error.message, new RegExp(`${target}.*EROFS.*remount`));
        return true;
      });
      await assert.rejects(writeBytes(storage, 'media_attachments/x.png', Buffer.from('x')), { name: 'StorageWriteError', code: 'storage.read-only' });
      await assert.rejects(writeBytes(storage, 'top.png', Buffer.from('x')), { name: 'StorageWriteError', code: 'storage.read-only' });
      assert.deepEqual(await filesOnDisk(target), []);
    });

    test('a full disk fails the write with storage.disk-full and leaves no partial file', async (t) => {
      const target = await tmpfs.mount(t, 'size=1m');
      if (target === undefined) return;
      const storage = new FsStorage({ type: 'fs', root: target });
      await storage.check('write');
      await writeBytes(storage, 'small/kept.bin', randomBytes(100 * 1024));
      const big = randomBytes(2 * 1024 * 1024);
      for (const size of [big.length, undefined]) {
        await assert.rejects(storage.write('media_attachments/big.bin', Readable.from([big]), { size }), (error) => {
          assert.ok(error instanceof StorageWriteError);
          assert.equal(error.code, 'storage.disk-full');
          assert.match(error.message, /^ENOSPC: no space left on the device writing .*big\.bin$/);
          return true;
        });
      }
      assert.deepEqual(await filesOnDisk(target), ['small/kept.bin']);
      assert.equal((await readBytes(storage, 'small/kept.bin'))?.length, 100 * 1024);
    });
  });
});
