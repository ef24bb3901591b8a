import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import { Random } from './random.js';

/**
 * Deterministic object bodies: the same key, size and seed always give the same bytes, so a
 * copy can be checked against a regenerated original without keeping one. A body is a
 * per-key head (a real file signature, a valid tiny picture for PNG and GIF, then a digest of
 * the key) followed by filler taken from one shared 1 MiB pseudo-random block. Generating a
 * gigabyte costs no CPU: the stream hands out slices of that block.
 */

const blockLength = 1 << 20;
const chunkLength = 256 * 1024;
let fillerBlock: Buffer | undefined;

function filler(): Buffer {
  if (fillerBlock === undefined) {
    const random = new Random('synthetic-instance filler');
    const block = Buffer.allocUnsafe(blockLength);
    for (let offset = 0; offset < blockLength; offset += 4) block.writeUInt32LE(Math.floor(random.next() * 4294967296) >>> 0, offset);
    fillerBlock = block;
  }
  return fillerBlock;
}

const contentTypes: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  zip: 'application/zip',
  ico: 'image/vnd.microsoft.icon',
  csv: 'text/csv',
};

export function extensionOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** The Content-Type Paperclip would have sent for a file with this key's extension. */
export function contentTypeFor(key: string): string {
  return contentTypes[extensionOf(key)] ?? 'application/octet-stream';
}

function digest(seed: string, key: string): Buffer {
  return createHash('sha256').update(seed).update('\0').update(key).digest();
}

/** The first bytes of the object: a signature browsers and `file` recognise, and a digest unique to the key. */
export function objectHead(key: string, seed: string): Buffer {
  const hash = digest(seed, key);
  const signature = signatureFor(extensionOf(key), hash);
  return Buffer.concat([signature, Buffer.from(`\n${key}\n`), hash]);
}

function signatureFor(extension: string, hash: Buffer): Buffer {
  switch (extension) {
    case 'png':
      return tinyPng(hash);
    case 'gif':
      return tinyGif(hash);
    case 'jpg':
    case 'jpeg':
      return Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
    case 'webp':
      return Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);
    case 'heic':
      return Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic')]);
    case 'mp4':
      return Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom\0\0\x02\0isomiso2avc1mp41', 'latin1')]);
    case 'mov':
      return Buffer.concat([Buffer.from([0, 0, 0, 0x14]), Buffer.from('ftypqt  \0\0\x02\0qt  ', 'latin1')]);
    case 'webm':
      return Buffer.from([0x1a, 0x45, 0xdf, 0xa3]);
    case 'mp3':
      return Buffer.from([0x49, 0x44, 0x33, 0x04, 0, 0, 0, 0, 0, 0]);
    case 'zip':
      return Buffer.from([0x50, 0x4b, 0x03, 0x04]);
    case 'ico':
      return Buffer.from([0, 0, 1, 0]);
    case 'csv':
      return Buffer.from('id,key,bytes\n');
    default:
      return Buffer.alloc(0);
  }
}

/** The object's bytes, in chunks that mostly share memory with the filler block. */
export function* objectChunks(key: string, size: number, seed: string): Generator<Buffer> {
  const head = objectHead(key, seed);
  if (size <= head.length) {
    yield head.subarray(0, size);
    return;
  }
  yield head;
  const block = filler();
  let offset = digest(seed, key).readUInt32LE(0) % blockLength;
  let remaining = size - head.length;
  while (remaining > 0) {
    const length = Math.min(remaining, chunkLength, blockLength - offset);
    yield block.subarray(offset, offset + length);
    remaining -= length;
    offset = (offset + length) % blockLength;
  }
}

/** A stream of the object's bytes; a gigabyte streams without holding more than one chunk. */
export function objectBody(key: string, size: number, seed: string): Readable {
  return Readable.from(objectChunks(key, size, seed), { objectMode: false, highWaterMark: chunkLength });
}

/** Hex MD5 of the object: the ETag S3 reports for a single-part upload. */
export function objectMd5(key: string, size: number, seed: string): string {
  const hash = createHash('md5');
  for (const chunk of objectChunks(key, size, seed)) hash.update(chunk);
  return hash.digest('hex');
}

// --- tiny valid pictures ---------------------------------------------------------

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid 48×48 PNG, a diagonal gradient in two colours taken from the key's digest. Bytes after IEND are ignored by viewers. */
function tinyPng(hash: Buffer): Buffer {
  const side = 48;
  const from = [hash[1] ?? 0, hash[2] ?? 0, hash[3] ?? 0];
  const to = [hash[4] ?? 0, hash[5] ?? 0, hash[6] ?? 0];
  const raw = Buffer.alloc(side * (side * 3 + 1));
  for (let y = 0; y < side; y++) {
    const row = y * (side * 3 + 1);
    for (let x = 0; x < side; x++) {
      const t = (x + y) / (2 * side - 2);
      for (let c = 0; c < 3; c++) raw[row + 1 + x * 3 + c] = Math.round((from[c] ?? 0) * (1 - t) + (to[c] ?? 0) * t);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid 1×1 GIF in the key's colour. */
function tinyGif(hash: Buffer): Buffer {
  return Buffer.from([
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00,
    hash[1] ?? 0, hash[2] ?? 0, hash[3] ?? 0, 0x00, 0x00, 0x00,
    0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
  ]);
}
