// Medians, ranges and ratios of timing samples.

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** median, min and max of `values` */
export function summary(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    n: finite.length,
    median: median(finite),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
  };
}

/**
 * Ratio of subject to anchor: of the medians, and the median of the per-round ratios (each round
 * ran both, back to back, so drift in the machine's load hits both alike).
 */
export function ratio(subject, anchor) {
  const paired = [];
  for (let i = 0; i < Math.min(subject.length, anchor.length); i++) {
    if (Number.isFinite(subject[i]) && Number.isFinite(anchor[i]) && anchor[i] > 0) {
      paired.push(subject[i] / anchor[i]);
    }
  }
  return { ofMedians: median(subject) / median(anchor), paired: summary(paired) };
}

export const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–');
export const mib = (bytes) => {
  if (!Number.isFinite(bytes)) return '–';
  const text = (bytes / 1024 / 1024).toFixed(1);
  // a difference that rounds to zero is 0.0, not -0.0
  return text === '-0.0' ? '0.0' : text;
};
export const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');

/** "median (min–max)" */
export function range(s, fmt = ms) {
  return s.n ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '–';
}
