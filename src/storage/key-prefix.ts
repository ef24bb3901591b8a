/**
 * A storage's own key prefix, formed as Mastodon forms it from S3_KEY_PREFIX:
 * the value as written, then `/`, then the key, and Paperclip drops one
 * leading `/` of the result. So `media` gives `media/accounts/…` and `media/`
 * gives `media//accounts/…`, which S3 keeps as a different key.
 */
export class KeyPrefix {
  /** '' when there is no prefix, otherwise e.g. 'mastodon/' (always ending in '/'). */
  readonly value: string;

  constructor(prefix: string | undefined) {
    this.value = prefix === undefined || prefix === '' ? '' : `${prefix}/`.replace(/^\//, '');
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
