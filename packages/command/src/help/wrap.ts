/**
 * Word-wraps `text` to `width` columns. Words longer than a line are kept whole rather than cut
 * (paths and URLs stay copyable).
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line === '') line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

export interface Row {
  /** Left column, plain text (its width is measured). */
  readonly term: string;
  readonly description: string;
}

/** Where descriptions start when these terms share one column: after the widest term, capped. */
export function descriptionColumn(terms: readonly string[], width: number): number {
  const maxTerm = Math.max(0, ...terms.map((t) => t.length));
  return Math.min(INDENT + maxTerm + GAP, Math.max(INDENT + 12, Math.floor(width * 0.4)));
}

const INDENT = 2;
const GAP = 2;

/**
 * Two aligned columns: terms indented by 2, descriptions wrapped to `width` from `column` on.
 * A term too wide for the column gets its description on the next line. `paint` colours a term
 * after its width was measured.
 */
export function formatRows(
  rows: readonly Row[],
  width: number,
  column = descriptionColumn(
    rows.map((r) => r.term),
    width,
  ),
  paint: (term: string) => string = (t) => t,
): string[] {
  const descWidth = Math.max(20, width - column);
  const out: string[] = [];
  for (const row of rows) {
    const desc = wrap(row.description, descWidth);
    const head = ' '.repeat(INDENT) + paint(row.term);
    if (INDENT + row.term.length + GAP <= column) {
      out.push(`${head}${' '.repeat(column - INDENT - row.term.length)}${desc[0] ?? ''}`.trimEnd());
      for (const more of desc.slice(1)) out.push(' '.repeat(column) + more);
    } else {
      out.push(head);
      for (const more of desc) if (more) out.push(' '.repeat(column) + more);
    }
  }
  return out;
}
