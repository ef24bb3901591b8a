/**
 * The `<filename>` path segment, following Mastodon's override of Paperclip's
 * `:filename` interpolation (config/initializers/paperclip.rb):
 * - style `original`: the DB `<att>_file_name`, unchanged, even when the style has a format;
 * - any other style: basename + '.' + (the style's format, else the original's extension),
 *   with no dot when that extension is empty.
 */
export function styleFileName(originalName: string, style: string, format: string | undefined): string {
  if (style === 'original') return originalName;
  const { base, extension } = splitExtension(originalName);
  const ext = format ?? extension;
  return ext === '' ? base : `${base}.${ext}`;
}

/**
 * Ruby's `File.basename(name, '.*')` and `File.extname(name)` without the dot:
 * only the last extension counts, and leading dots belong to the name (`.hidden` has none).
 */
function splitExtension(name: string): { base: string; extension: string } {
  const lastDot = name.lastIndexOf('.');
  const firstNonDot = name.search(/[^.]/);
  if (lastDot <= 0 || firstNonDot === -1 || lastDot < firstNonDot) return { base: name, extension: '' };
  return { base: name.slice(0, lastDot), extension: name.slice(lastDot + 1) };
}
