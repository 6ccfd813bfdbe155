/** Options of {@link formatTable}. */
export interface TableOptions {
  /**
   * Width of the terminal: rows are cut to it, the last column giving way first (with "…").
   * Absent: rows are never cut, as a pipe or file wants.
   */
  readonly width?: number | undefined;
  /** Spaces between columns (default 2). */
  readonly gap?: number;
}

/**
 * Lays out rows as aligned columns under a header, one line per row. Cells are single lines
 * (line breaks become spaces); widths count code points, which is right for the names, versions
 * and descriptions Toolwire prints.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const gap = " ".repeat(options.gap ?? 2);
  const all = [header, ...rows].map((row) => header.map((_, i) => (row[i] ?? "").replace(/\s*\n\s*/g, " ")));
  const widths = header.map((_, i) => Math.max(...all.map((row) => length(row[i] ?? ""))));
  return all
    .map((row) => {
      const line = row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - length(cell))))
        .join(gap)
        .trimEnd();
      return options.width === undefined ? line : cut(line, options.width);
    })
    .join("\n");
}

function length(text: string): number {
  return [...text].length;
}

/** Cuts a line to `width` columns, ending it with "…" when anything was cut. */
function cut(line: string, width: number): string {
  const chars = [...line];
  if (chars.length <= width) return line;
  return `${chars.slice(0, Math.max(0, width - 1)).join("").trimEnd()}…`;
}
