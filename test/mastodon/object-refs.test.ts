import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectRefsForRow } from '../../src/mastodon/object-refs.js';
import type { ObjectRef } from '../../src/mastodon/object-ref.js';

const keys = (refs: ObjectRef[]): string[] => refs.map((r) => r.key);
const alternates = (refs: ObjectRef[]): (string | undefined)[] => refs.map((r) => r.alternateKey);

// --- accounts -------------------------------------------------------------------

test('local account avatar: plain key, no alternate, required original', () => {
  const refs = objectRefsForRow('accounts', {
    id: '109283929999999999',
    domain: null,
    avatar_file_name: '5f952d09eed7d402.jpg',
    avatar_content_type: 'image/jpeg',
    avatar_storage_schema_version: 1,
    header_file_name: null,
  });
  assert.deepEqual(refs, [
    {
      job: 'accounts',
      rowId: '109283929999999999',
      attachment: 'avatar',
      style: 'original',
      key: 'accounts/avatars/109/283/929/999/999/999/original/5f952d09eed7d402.jpg',
      required: true,
      private: false,
    },
  ]);
});

test('remote account with storage schema version 1 lives under cache/, alternate without', () => {
  const refs = objectRefsForRow('accounts', {
    id: '113983666634985404',
    domain: 'example.social',
    avatar_file_name: '1081b689da578927.png',
    avatar_content_type: 'image/png',
    avatar_storage_schema_version: 1,
  });
  assert.deepEqual(keys(refs), ['cache/accounts/avatars/113/983/666/634/985/404/original/1081b689da578927.png']);
  assert.deepEqual(alternates(refs), ['accounts/avatars/113/983/666/634/985/404/original/1081b689da578927.png']);
});

test('remote account with version 0, NULL or no version column: plain key, alternate under cache/', () => {
  for (const version of [0, null, undefined]) {
    const refs = objectRefsForRow('accounts', {
      id: '1234',
      domain: 'example.social',
      header_file_name: 'd2ac1408113bcbed.jpeg',
      header_content_type: 'image/jpeg',
      header_storage_schema_version: version,
    });
    assert.deepEqual(keys(refs), ['accounts/headers/000/001/234/original/d2ac1408113bcbed.jpeg'], `version ${version}`);
    assert.deepEqual(alternates(refs), ['cache/accounts/headers/000/001/234/original/d2ac1408113bcbed.jpeg']);
  }
});

test('GIF avatar gets a static .png; remote GIF header puts both under cache/', () => {
  const refs = objectRefsForRow('accounts', {
    id: '42',
    domain: 'remote.example',
    avatar_file_name: 'a1b2c3d4e5f6a7b8.gif',
    avatar_content_type: 'image/gif',
    avatar_storage_schema_version: 0,
    header_file_name: 'ffeeddccbbaa9988.gif',
    header_content_type: 'image/gif',
    header_storage_schema_version: 1,
  });
  assert.deepEqual(keys(refs), [
    'accounts/avatars/000/000/042/original/a1b2c3d4e5f6a7b8.gif',
    'accounts/avatars/000/000/042/static/a1b2c3d4e5f6a7b8.png',
    'cache/accounts/headers/000/000/042/original/ffeeddccbbaa9988.gif',
    'cache/accounts/headers/000/000/042/static/ffeeddccbbaa9988.png',
  ]);
  assert.deepEqual(
    refs.map((r) => [r.style, r.required]),
    [
      ['original', true],
      ['static', false],
      ['original', true],
      ['static', false],
    ],
  );
});

test('webp avatar has no static style', () => {
  const refs = objectRefsForRow('accounts', {
    id: '7',
    domain: null,
    avatar_file_name: '0123456789abcdef.webp',
    avatar_content_type: 'image/webp',
  });
  assert.deepEqual(keys(refs), ['accounts/avatars/000/000/007/original/0123456789abcdef.webp']);
});

// --- media_attachments ------------------------------------------------------------

const media = (overrides: Record<string, unknown>) => ({
  id: '110123456789012345',
  remote_url: '',
  file_storage_schema_version: 1,
  thumbnail_file_name: null,
  account_suspended: false,
  status_deleted: false,
  ...overrides,
});

test('local jpeg media: small has the same name as original', () => {
  const refs = objectRefsForRow('media_attachments', media({ file_file_name: '3562dcb3b25b8dd0.jpg', file_content_type: 'image/jpeg' }));
  assert.deepEqual(keys(refs), [
    'media_attachments/files/110/123/456/789/012/345/original/3562dcb3b25b8dd0.jpg',
    'media_attachments/files/110/123/456/789/012/345/small/3562dcb3b25b8dd0.jpg',
  ]);
  assert.deepEqual(alternates(refs), [undefined, undefined]);
});

test('remote media with version 1 under cache/, with version 0 not', () => {
  const remote = { remote_url: 'https://remote.example/media/x.jpeg', file_file_name: '520bab958952f332.jpeg', file_content_type: 'image/jpeg' };
  const v1 = objectRefsForRow('media_attachments', media({ id: '114451757786922201', ...remote }));
  assert.deepEqual(keys(v1), [
    'cache/media_attachments/files/114/451/757/786/922/201/original/520bab958952f332.jpeg',
    'cache/media_attachments/files/114/451/757/786/922/201/small/520bab958952f332.jpeg',
  ]);
  assert.deepEqual(alternates(v1), [
    'media_attachments/files/114/451/757/786/922/201/original/520bab958952f332.jpeg',
    'media_attachments/files/114/451/757/786/922/201/small/520bab958952f332.jpeg',
  ]);
  const v0 = objectRefsForRow('media_attachments', media({ id: '5', ...remote, file_storage_schema_version: null }));
  assert.deepEqual(keys(v0), [
    'media_attachments/files/000/000/005/original/520bab958952f332.jpeg',
    'media_attachments/files/000/000/005/small/520bab958952f332.jpeg',
  ]);
});

test('a whitespace-only remote_url is blank, so the media is local', () => {
  const refs = objectRefsForRow('media_attachments', media({ id: '5', remote_url: '  ', file_file_name: 'a.png', file_content_type: 'image/png' }));
  assert.deepEqual(keys(refs), ['media_attachments/files/000/000/005/original/a.png', 'media_attachments/files/000/000/005/small/a.png']);
});

test('gif, webm and mp4 media: small is a .png', () => {
  const cases: [string, string, string][] = [
    ['image/gif', 'ab12cd34ef56ab78.gif', 'ab12cd34ef56ab78.png'],
    ['video/mp4', 'ab12cd34ef56ab78.mp4', 'ab12cd34ef56ab78.png'],
    ['video/webm', 'ab12cd34ef56ab78.webm', 'ab12cd34ef56ab78.png'],
    ['video/quicktime', 'ab12cd34ef56ab78.mov', 'ab12cd34ef56ab78.png'],
    ['video/ogg', 'ab12cd34ef56ab78.ogv', 'ab12cd34ef56ab78.png'],
  ];
  for (const [type, original, small] of cases) {
    const refs = objectRefsForRow('media_attachments', media({ id: '9', file_file_name: original, file_content_type: type }));
    assert.deepEqual(
      keys(refs),
      [`media_attachments/files/000/000/009/original/${original}`, `media_attachments/files/000/000/009/small/${small}`],
      type,
    );
  }
});

test('heic, heif and avif media: small is a .jpeg', () => {
  for (const type of ['image/heic', 'image/heif', 'image/avif']) {
    const refs = objectRefsForRow('media_attachments', media({ id: '9', file_file_name: 'c0ffee00c0ffee00.heic', file_content_type: type }));
    assert.deepEqual(
      keys(refs),
      ['media_attachments/files/000/000/009/original/c0ffee00c0ffee00.heic', 'media_attachments/files/000/000/009/small/c0ffee00c0ffee00.jpeg'],
      type,
    );
  }
});

test('audio media: original only', () => {
  const refs = objectRefsForRow('media_attachments', media({ id: '9', file_file_name: 'beef00beef00beef.mp3', file_content_type: 'audio/mpeg' }));
  assert.deepEqual(keys(refs), ['media_attachments/files/000/000/009/original/beef00beef00beef.mp3']);
});

test('a content type in no image or video list falls to AUDIO_STYLES: original only', () => {
  // MediaAttachment.file_styles tests exact membership, so video/x-ms-asf (an audio type) and the
  // non-standard image/jpg of old remote media get no small style.
  for (const type of ['video/x-ms-asf', 'image/jpg']) {
    const refs = objectRefsForRow('media_attachments', media({ id: '9', file_file_name: 'beef00beef00beef.jpg', file_content_type: type }));
    assert.deepEqual(keys(refs), ['media_attachments/files/000/000/009/original/beef00beef00beef.jpg'], type);
  }
});

test('thumbnail: never cache/ when its version is NULL or absent, cache/ when 1 and remote', () => {
  const base = {
    id: '9',
    remote_url: 'https://remote.example/a.mp3',
    file_file_name: null,
    thumbnail_file_name: '9f8e7d6c5b4a3928.png',
    thumbnail_content_type: 'image/png',
  };
  const absent = objectRefsForRow('media_attachments', media(base));
  assert.deepEqual(keys(absent), ['media_attachments/thumbnails/000/000/009/original/9f8e7d6c5b4a3928.png']);
  const nullVersion = objectRefsForRow('media_attachments', media({ ...base, thumbnail_storage_schema_version: null }));
  assert.deepEqual(keys(nullVersion), ['media_attachments/thumbnails/000/000/009/original/9f8e7d6c5b4a3928.png']);
  const v1 = objectRefsForRow('media_attachments', media({ ...base, thumbnail_storage_schema_version: 1 }));
  assert.deepEqual(keys(v1), ['cache/media_attachments/thumbnails/000/000/009/original/9f8e7d6c5b4a3928.png']);
  assert.deepEqual(alternates(v1), ['media_attachments/thumbnails/000/000/009/original/9f8e7d6c5b4a3928.png']);
  const local = objectRefsForRow('media_attachments', media({ ...base, remote_url: '', thumbnail_storage_schema_version: 1 }));
  assert.deepEqual(keys(local), ['media_attachments/thumbnails/000/000/009/original/9f8e7d6c5b4a3928.png']);
});

test('media of a suspended account or a soft-deleted status is private, every style', () => {
  const row = { id: '9', file_file_name: 'v.mp4', file_content_type: 'video/mp4', thumbnail_file_name: 'p.jpg', thumbnail_content_type: 'image/jpeg' };
  assert.deepEqual(objectRefsForRow('media_attachments', media({ ...row, account_suspended: true })).map((r) => r.private), [true, true, true]);
  assert.deepEqual(objectRefsForRow('media_attachments', media({ ...row, status_deleted: true })).map((r) => r.private), [true, true, true]);
  assert.deepEqual(objectRefsForRow('media_attachments', media(row)).map((r) => r.private), [false, false, false]);
});

// --- the other tables ----------------------------------------------------------------

test('custom emoji: static .png always; remote with version 1 under cache/', () => {
  const local = objectRefsForRow('custom_emojis', { id: '42', domain: null, image_file_name: '1a2b3c4d5e6f7a8b.gif', image_content_type: 'image/gif', image_storage_schema_version: 1 });
  assert.deepEqual(keys(local), ['custom_emojis/images/000/000/042/original/1a2b3c4d5e6f7a8b.gif', 'custom_emojis/images/000/000/042/static/1a2b3c4d5e6f7a8b.png']);
  const remote = objectRefsForRow('custom_emojis', { id: '43', domain: 'remote.example', image_file_name: 'b.png', image_content_type: 'image/png', image_storage_schema_version: 1 });
  assert.deepEqual(keys(remote), ['cache/custom_emojis/images/000/000/043/original/b.png', 'cache/custom_emojis/images/000/000/043/static/b.png']);
});

test('preview card is never local: cache/ from version 1; a GIF keeps its DB name', () => {
  const v1 = objectRefsForRow('preview_cards', { id: '123456', image_file_name: '0a1b2c3d4e5f6a7b.gif', image_content_type: 'image/gif', image_storage_schema_version: 1 });
  assert.deepEqual(keys(v1), ['cache/preview_cards/images/000/123/456/original/0a1b2c3d4e5f6a7b.gif']);
  assert.deepEqual(alternates(v1), ['preview_cards/images/000/123/456/original/0a1b2c3d4e5f6a7b.gif']);
  const v0 = objectRefsForRow('preview_cards', { id: '123456', image_file_name: 'x.jpg', image_storage_schema_version: null });
  assert.deepEqual(keys(v0), ['preview_cards/images/000/123/456/original/x.jpg']);
  assert.deepEqual(alternates(v0), ['cache/preview_cards/images/000/123/456/original/x.jpg']);
});

test('preview card provider icon: original plus static .png, never cache/', () => {
  const refs = objectRefsForRow('preview_card_providers', { id: '7', icon_file_name: 'fav.ico', icon_content_type: 'image/x-icon', icon_storage_schema_version: 1 });
  assert.deepEqual(keys(refs), ['preview_card_providers/icons/000/000/007/original/fav.ico', 'preview_card_providers/icons/000/000/007/static/fav.png']);
  assert.deepEqual(alternates(refs), [undefined, undefined]);
});

test('site upload styles follow var', () => {
  const keysFor = (variable: string) => keys(objectRefsForRow('site_uploads', { id: '3', var: variable, file_file_name: '4c5d9cd04b0267d2.jpg', file_content_type: 'image/jpeg' }));
  const prefix = 'site_uploads/files/000/000/003';
  assert.deepEqual(keysFor('thumbnail'), [`${prefix}/original/4c5d9cd04b0267d2.jpg`, `${prefix}/@1x/4c5d9cd04b0267d2.png`, `${prefix}/@2x/4c5d9cd04b0267d2.png`]);
  assert.deepEqual(keysFor('favicon'), [
    `${prefix}/original/4c5d9cd04b0267d2.jpg`,
    `${prefix}/16/4c5d9cd04b0267d2.png`,
    `${prefix}/32/4c5d9cd04b0267d2.png`,
    `${prefix}/48/4c5d9cd04b0267d2.png`,
  ]);
  const sizes = [36, 48, 57, 60, 72, 76, 96, 114, 120, 144, 152, 167, 180, 192, 256, 384, 512, 1024];
  assert.deepEqual(keysFor('app_icon'), [`${prefix}/original/4c5d9cd04b0267d2.jpg`, ...sizes.map((s) => `${prefix}/${s}/4c5d9cd04b0267d2.png`)]);
  assert.deepEqual(keysFor('mascot'), [`${prefix}/original/4c5d9cd04b0267d2.jpg`]);
  assert.deepEqual(keysFor('hero'), [`${prefix}/original/4c5d9cd04b0267d2.jpg`]);
});

test('backups are private, original only, never cache/', () => {
  const refs = objectRefsForRow('backups', { id: '12', dump_file_name: 'archive-20240101120000-0123456789abcdef0123456789abcdef.zip' });
  assert.deepEqual(refs, [
    {
      job: 'backups',
      rowId: '12',
      attachment: 'dump',
      style: 'original',
      key: 'backups/dumps/000/000/012/original/archive-20240101120000-0123456789abcdef0123456789abcdef.zip',
      required: true,
      private: true,
    },
  ]);
});

test('legacy imports keep the user-supplied name', () => {
  const refs = objectRefsForRow('imports', { id: '5', data_file_name: 'following_accounts.csv' });
  assert.deepEqual(keys(refs), ['imports/data/000/000/005/original/following_accounts.csv']);
  assert.equal(refs[0]?.private, false);
});

// --- file names and ids ---------------------------------------------------------------

test('NULL or empty file names yield nothing', () => {
  assert.deepEqual(objectRefsForRow('accounts', { id: '1', domain: null, avatar_file_name: null, header_file_name: '' }), []);
  assert.deepEqual(objectRefsForRow('media_attachments', media({ file_file_name: null, thumbnail_file_name: null })), []);
  assert.deepEqual(objectRefsForRow('backups', { id: '1', dump_file_name: null }), []);
});

test('file names with spaces and unicode stay raw; only the last extension is replaced', () => {
  const refs = objectRefsForRow('media_attachments', media({ id: '9', file_file_name: 'Föto vom Strand 🌊.final.gif', file_content_type: 'image/gif' }));
  assert.deepEqual(keys(refs), [
    'media_attachments/files/000/000/009/original/Föto vom Strand 🌊.final.gif',
    'media_attachments/files/000/000/009/small/Föto vom Strand 🌊.final.png',
  ]);
});

test('names without an extension: a formatted style adds one, an unformatted one adds none', () => {
  const gif = objectRefsForRow('accounts', { id: '1', domain: null, avatar_file_name: 'avatar', avatar_content_type: 'image/gif' });
  assert.deepEqual(keys(gif), ['accounts/avatars/000/000/001/original/avatar', 'accounts/avatars/000/000/001/static/avatar.png']);
  const jpeg = objectRefsForRow('media_attachments', media({ id: '1', file_file_name: 'photo', file_content_type: 'image/jpeg' }));
  assert.deepEqual(keys(jpeg), ['media_attachments/files/000/000/001/original/photo', 'media_attachments/files/000/000/001/small/photo']);
  const dotfile = objectRefsForRow('custom_emojis', { id: '1', domain: null, image_file_name: '.blob', image_content_type: 'image/png' });
  assert.deepEqual(keys(dotfile), ['custom_emojis/images/000/000/001/original/.blob', 'custom_emojis/images/000/000/001/static/.blob.png']);
});

test('row ids may arrive as bigint or safe numbers, never as unsafe numbers', () => {
  const row = { domain: null, avatar_file_name: 'a.jpg', avatar_content_type: 'image/jpeg' };
  assert.equal(objectRefsForRow('accounts', { ...row, id: 110123456789012345n })[0]?.key, 'accounts/avatars/110/123/456/789/012/345/original/a.jpg');
  assert.equal(objectRefsForRow('accounts', { ...row, id: 12345 })[0]?.key, 'accounts/avatars/000/012/345/original/a.jpg');
  assert.throws(() => objectRefsForRow('accounts', { ...row, id: 110123456789012345 }), TypeError);
});
