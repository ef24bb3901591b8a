import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mastodonClassPrefixes, parseMastodonKey } from '../../src/mastodon/mastodon-key-parser.js';
import { objectRefsForRow } from '../../src/mastodon/object-refs.js';

describe('parseMastodonKey recognises only Mastodon-shaped keys', () => {
  test('every key the tool derives is recognised, as the job and attachment it came from', () => {
    const refs = [
      ...objectRefsForRow('accounts', { id: '109283929999999999', domain: 'remote.example', avatar_file_name: 'a.gif', avatar_content_type: 'image/gif', avatar_storage_schema_version: 1, header_file_name: 'h.png' }),
      ...objectRefsForRow('media_attachments', { id: '12345', file_file_name: 'v.mp4', file_content_type: 'video/mp4', thumbnail_file_name: 't.png' }),
      ...objectRefsForRow('site_uploads', { id: '3', var: 'app_icon', file_file_name: 'icon.png' }),
      ...objectRefsForRow('preview_card_providers', { id: '4', icon_file_name: 'p.png' }),
      ...objectRefsForRow('imports', { id: '5', data_file_name: 'follows.csv' }),
      ...objectRefsForRow('backups', { id: '6', dump_file_name: 'archive.tar.gz' }),
    ];
    assert.ok(refs.length > 25);
    for (const ref of refs) {
      const parsed = parseMastodonKey(ref.key);
      assert.ok(parsed, ref.key);
      assert.equal(parsed.job, ref.job, ref.key);
      assert.equal(parsed.attachment, ref.attachment, ref.key);
      assert.equal(parsed.style, ref.style, ref.key);
      assert.equal(parsed.cached, ref.key.startsWith('cache/'), ref.key);
    }
  });

  test('the parts of a cached snowflake key', () => {
    assert.deepEqual(parseMastodonKey('cache/media_attachments/files/114/451/757/786/922/201/small/520bab958952f332.jpeg'), {
      job: 'media_attachments',
      attachment: 'file',
      cached: true,
      partition: '114451757786922201',
      style: 'small',
      fileName: '520bab958952f332.jpeg',
    });
  });

  test('anything else is not ours to call an orphan', () => {
    for (const key of [
      'export.csv',
      'media_attachments/files/000/000/001/original/',
      'cache/accounts/avatars/000/123/836/original/',
      'mastodon/accounts/avatars/000/000/001/original/a.png',
      'accounts/avatars/original/a.png',
      'accounts/avatars/000/00a/001/original/a.png',
      'accounts/pictures/000/000/001/original/a.png',
      'statuses/files/000/000/001/original/a.png',
      'other-app/uploads/x.png',
      '.mastodon-s3-sync-write-check',
    ]) {
      assert.equal(parseMastodonKey(key), undefined, key);
    }
  });

  test('the class prefixes cover every job, local and cached', () => {
    assert.ok(mastodonClassPrefixes.includes('media_attachments/'));
    assert.ok(mastodonClassPrefixes.includes('cache/preview_cards/'));
    assert.equal(mastodonClassPrefixes.length, 16);
  });
});
