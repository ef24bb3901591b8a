import { jobModels, type AttachmentModel } from './models.js';
import { jobNames, type JobName } from './object-ref.js';

/** A key in Paperclip's layout, taken apart. */
export interface ParsedKey {
  job: JobName;
  attachment: AttachmentModel['name'];
  /** Under `cache/` (remote media). */
  cached: boolean;
  /** The id partition's digits joined (leading zeros kept), e.g. `000012345`. */
  partition: string;
  style: string;
  fileName: string;
}

const byClassPath = new Map<string, { job: JobName; attachments: Map<string, AttachmentModel> }>(
  jobNames.map((job) => [jobModels[job].classPath, { job, attachments: new Map(jobModels[job].attachments.map((attachment) => [attachment.plural, attachment])) }]),
);

/** Top-level key prefixes of every class Mastodon stores, local and cached: `accounts/`, `cache/accounts/`, ... */
export const mastodonClassPrefixes: readonly string[] = jobNames.flatMap((job) => [`${jobModels[job].classPath}/`, `cache/${jobModels[job].classPath}/`]);

/**
 * Recognises a Mastodon-shaped key, as `tootctl media remove-orphans` does:
 * `[cache/]<class>/<attachment>/<id partition>/<style>/<file name>`, where the
 * class is one whose table holds attachments, the attachment is one of that
 * class's, and the partition is groups of three digits (three for serial ids,
 * six for snowflakes, as Paperclip writes them; two or more are accepted).
 * Anything else (other tools' files, `S3_KEY_PREFIX`es left in the key,
 * "folder" markers ending in `/`) gives undefined: not ours to call an orphan.
 *
 * Unlike tootctl, `preview_card_providers/` and `imports/` keys are recognised
 * too: this tool knows their layout.
 */
export function parseMastodonKey(key: string): ParsedKey | undefined {
  const segments = key.split('/');
  const cached = segments[0] === 'cache';
  if (cached) segments.shift();
  // class, attachment, ≥ 2 partition groups, style, file name
  if (segments.length < 6) return undefined;
  const [classPath, plural] = segments;
  const model = classPath === undefined ? undefined : byClassPath.get(classPath);
  const attachment = plural === undefined ? undefined : model?.attachments.get(plural);
  if (model === undefined || attachment === undefined) return undefined;
  const groups = segments.slice(2, -2);
  if (!groups.every((group) => /^\d{3}$/.test(group))) return undefined;
  const style = segments.at(-2)!;
  const fileName = segments.at(-1)!;
  if (style === '' || fileName === '') return undefined;
  return { job: model.job, attachment: attachment.name, cached, partition: groups.join(''), style, fileName };
}
