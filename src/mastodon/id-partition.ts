const minus = 0x2d;
const zero = 0x30;
const nine = 0x39;

/**
 * Paperclip's `:id_partition` interpolation (kt-paperclip ≥ 6.1, Mastodon ≥ 3.5):
 * zero-pad the id to 9 digits below 10⁹, else to 12 (longer ids stay as they are),
 * then join consecutive 3-digit groups with `/`, dropping a trailing 1–2 digit
 * remainder, exactly as Ruby's `scan(/\d{3}/)` does.
 *
 * Works on the decimal string: 18-digit snowflakes exceed Number.MAX_SAFE_INTEGER.
 * Runs once per row of every enumeration, hence character codes rather than regexes.
 */
export function idPartition(id: string): string {
  const negative = id.charCodeAt(0) === minus;
  let start = negative ? 1 : 0;
  if (start === id.length) throw notDecimal(id);
  for (let i = start; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code < zero || code > nine) throw notDecimal(id);
  }
  while (start < id.length - 1 && id.charCodeAt(start) === zero) start++;
  const digits = start === 0 ? id : id.slice(start);

  // Negative ids (the instance actor is -99) are below the limit. Ruby's `'%09d' % -99`
  // counts the sign in the width, and scan skips the sign.
  const belowLimit = negative || digits.length < 10;
  const width = (belowLimit ? 9 : 12) - (negative ? 1 : 0);
  const padded = digits.length < width ? '0'.repeat(width - digits.length) + digits : digits;

  let partition = padded.slice(0, 3);
  for (let group = 3; group + 3 <= padded.length; group += 3) partition += `/${padded.slice(group, group + 3)}`;
  return partition;
}

function notDecimal(id: string): TypeError {
  return new TypeError(`not a decimal row id: ${JSON.stringify(id)}`);
}
