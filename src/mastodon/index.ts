export type { Row } from './object-ref.js';
export { objectRefsForRow } from './object-refs.js';
export { MastodonDatabase } from './database.js';
export { jobModels } from './models.js';
