/**
 * A storage's own key prefix (Mastodon's S3_KEY_PREFIX, or a sub-folder),
 * normalized so that `prefix/key` never gets a doubled or leading slash.
 */
export class KeyPrefix {
  /** '' when there is no prefix, otherwise e.g. 'mastodon/' (always ending in '/'). */
  readonly value: string;

  constructor(prefix: string | undefined) {
    const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.value = trimmed === '' ? '' : `${trimmed}/`;
  }

  /** The full key of a storage-relative key. */
  add(key: string): string {
    return this.value + key;
  }

  /** The storage-relative key of a full key, or undefined when it lies outside the prefix. */
  strip(fullKey: string): string | undefined {
    return fullKey.startsWith(this.value) ? fullKey.slice(this.value.length) : undefined;
  }
}
