// How messages show the words of a command line.

/** Words up to twice this long are shown whole. */
export const SHOWN_WORD = 40;

/** A word of the command line in quotes, cut when long: `'xxxx…' (1048576 characters)`. */
export function quote(word: string): string {
  return word.length <= SHOWN_WORD * 2 ? `'${word}'` : `'${shorten(word)}' (${word.length} characters)`;
}

/** A long word cut to its first 40 characters and `…`. */
export function shorten(word: string): string {
  if (word.length <= SHOWN_WORD * 2) return word;
  // never split a surrogate pair
  const end = /[\ud800-\udbff]/.test(word[SHOWN_WORD - 1]!) ? SHOWN_WORD - 1 : SHOWN_WORD;
  return `${word.slice(0, end)}…`;
}

/** A word as a shell reads it back: bare when safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
