const units = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(milliseconds: number): string {
  return (milliseconds / 1000).toFixed(1);
}

/**
 * A plain-text table: a header line, then one line a row, columns two spaces apart. Names (the
 * first column, and any in `textColumns`) line up on the left, numbers on the right.
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], textColumns: readonly number[] = []): string {
  const widths = header.map((name, index) => Math.max(name.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) => (index === 0 || textColumns.includes(index) ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n');
}
