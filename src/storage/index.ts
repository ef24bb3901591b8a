export type { Acl, ListOptions, MultipartObserver, ObjectInfo, ReadInfo, ReadResult, Storage, StorageCapabilities, WriteOptions } from './storage.js';
export { TransientStorageError } from './storage.js';
export type { FsStorageOptions, S3StorageOptions, StorageOptions } from './storage-options.js';
export { createStorage } from './create-storage.js';
export { BodySizeMismatchError, InvalidKeyError, StorageWriteError, describeStorageError, isTransientError } from './errors.js';
export { S3Storage, type S3StorageTuning } from './s3/s3-storage.js';
export { FsStorage } from './fs/fs-storage.js';
