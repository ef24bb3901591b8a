import { lookup } from 'mime-types';

/**
 * The Content-Type to write for `key`: the source's, unless it names no type at all (missing, or
 * S3's `binary/octet-stream` and the `application/octet-stream` of tools that knew nothing about
 * the file), for which browsers behind Mastodon's `X-Content-Type-Options: nosniff` neither show
 * an image nor play a video. Mastodon's keys end in an extension that matches the file's type
 * (Paperclip derives it), so such an object gets the type its extension names, where it names one.
 * A specific type is kept as it is: the common case costs a few string comparisons, no lookup.
 */
export function contentTypeToWrite(key: string, sourceType: string | undefined): string | undefined {
  if (sourceType !== undefined && sourceType !== '' && sourceType !== 'binary/octet-stream' && sourceType !== 'application/octet-stream') return sourceType;
  const derived = lookup(key);
  return derived === false ? sourceType : derived;
}
