/**
 * Optimal-string-alignment distance: Levenshtein plus adjacent transpositions, so `strat` is
 * one edit from `start`.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[rows - 1]![cols - 1]!;
}

/**
 * The closest candidate within `maxDistance` edits, or undefined. Single letters get no
 * suggestion: any letter is one edit from any other; a word shorter than 6 letters gets one
 * within a single edit only (two edits turn `bogus` into `logs`).
 */
export function closest(input: string, candidates: Iterable<string>, maxDistance = 2): string | undefined {
  if (input.length < 2) return undefined;
  let best: string | undefined;
  let bestDistance = Math.min(maxDistance, input.length < 6 ? 1 : maxDistance) + 1;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: a word far longer than any name
    // (a pasted blob) costs nothing.
    if (candidate.length < 2 || Math.abs(candidate.length - input.length) >= bestDistance) continue;
    const distance = editDistance(input, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
