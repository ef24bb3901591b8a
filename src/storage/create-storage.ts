import { FsStorage } from './fs/fs-storage.js';
import { S3Storage } from './s3/s3-storage.js';
import type { StorageOptions } from './storage-options.js';
import type { Storage } from './storage.js';

export function createStorage(options: StorageOptions): Storage {
  switch (options.type) {
    case 's3':
      return new S3Storage(options);
    case 'fs':
      return new FsStorage(options);
  }
}
