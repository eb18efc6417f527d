import type { Palette } from './palette.js';

/** One cell: its plain text and how to colour it. */
export interface Cell {
  text: string;
  paint?: (text: string) => string;
}

export interface Column {
  header: string;
  align?: 'left' | 'right';
  /** narrowest this column may be cut to when the table must fit a width; absent: never cut */
  minWidth?: number;
}

const GAP = '  ';
const ELLIPSIS = '…';

function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return text.slice(0, width);
  return `${text.slice(0, width - 1)}${ELLIPSIS}`;
}

/**
 * Aligned columns, two spaces apart, no trailing blanks. With `width`, the cuttable columns
 * (those with a `minWidth`) are narrowed, last column first, until the table fits or they reach
 * their minimum.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
  palette: Palette,
  width?: number,
): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => r[i]?.text.length ?? 0)));
  if (width !== undefined && width > 0) {
    let over = widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1) - width;
    for (let i = columns.length - 1; i >= 0 && over > 0; i--) {
      const min = columns[i]?.minWidth;
      if (min === undefined) continue;
      const take = Math.min(over, Math.max(0, (widths[i] ?? 0) - min));
      widths[i] = (widths[i] ?? 0) - take;
      over -= take;
    }
  }
  const line = (cells: readonly Cell[]): string => {
    const parts = columns.map((column, i) => {
      const w = widths[i] ?? 0;
      const cell = cells[i] ?? { text: '' };
      const text = cut(cell.text, w);
      const painted = cell.paint ? cell.paint(text) : text;
      const fill = ' '.repeat(w - text.length);
      return column.align === 'right' ? fill + painted : painted + fill;
    });
    return parts.join(GAP).trimEnd();
  };
  const header = line(columns.map((c) => ({ text: c.header, paint: palette.bold })));
  return [header, ...rows.map(line)];
}
