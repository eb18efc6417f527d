/**
 * A tiny ANSI palette, so core needs no colour dependency. `plain` returns text unchanged;
 * colours are used only when a caller asks for them.
 */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const wrap =
  (open: number, close: number) =>
  (text: string): string =>
    text === '' ? text : `\x1b[${open}m${text}\x1b[${close}m`;

export const ansi: Palette = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
};

const same = (text: string): string => text;
export const plain: Palette = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same };

/** Visible width of a string that may hold ANSI colour codes. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
