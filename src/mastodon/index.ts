export { jobNames, isJobName, type JobName, type ObjectRef, type Row } from './object-ref.js';
export { idPartition } from './id-partition.js';
export { objectRefsForRow } from './object-refs.js';
export { MastodonDatabase, type DatabaseOptions, type RowQuery } from './database.js';
export type { JobSchema } from './job-schema.js';
export { jobModels, type JobModel, type AttachmentModel, type StyleSpec, type StyleRule, type Locality, type Privacy } from './models.js';
