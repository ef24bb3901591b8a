/**
 * Paperclip's `:id_partition` interpolation (kt-paperclip ≥ 6.1, Mastodon ≥ 3.5):
 * zero-pad the id to 9 digits below 10⁹, else to 12 (longer ids stay as they are),
 * then join consecutive 3-digit groups with `/`, dropping a trailing 1–2 digit
 * remainder, exactly as Ruby's `scan(/\d{3}/)` does.
 *
 * Works on the decimal string: 18-digit snowflakes exceed Number.MAX_SAFE_INTEGER.
 */
export function idPartition(id: string): string {
  const match = /^(-?)0*(\d+)$/.exec(id);
  if (!match) throw new TypeError(`not a decimal row id: ${JSON.stringify(id)}`);
  const sign = match[1] ?? '';
  const digits = match[2] ?? '0';

  // Negative ids (the instance actor is -99) are below the limit. Ruby's `'%09d' % -99`
  // counts the sign in the width, and scan skips the sign.
  const belowLimit = sign === '-' || digits.length < 10;
  const width = belowLimit ? 9 : 12;
  const formatted = sign + digits.padStart(width - sign.length, '0');

  return (formatted.match(/\d{3}/g) ?? []).join('/');
}
