/** Human-readable figures for the status table. */

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `532 B`, `41.5 MiB`, `1.2 GiB`; `-` for an unknown size. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '-';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${SIZE_UNITS[unit]}`;
}

/** `45s`, `3m 12s`, `2h 05m`, `4d 03h`: the two largest units. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/**
 * A wait still to come, as `0.2s` under a second (a first backoff is 50-100 ms, which rounded up
 * to whole seconds read `1s`), else as formatDuration rounds it up.
 */
export function formatWait(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${(Math.ceil(ms / 100) / 10).toFixed(1)}s`;
  return formatDuration(Math.ceil(ms / 1000));
}

/** Local time: `17:30:05` on the day of `now`, `2026-11-23 17:30` on another day; `-` when unknown. */
export function formatClock(epochMs: number | null | undefined, now: number): string {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs) || epochMs <= 0) return '-';
  const at = new Date(epochMs);
  const today = new Date(now);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  if (at.toDateString() === today.toDateString()) return time;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time.slice(0, 5)}`;
}

/** `0.3%`, `12%`, `-` when unknown. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value < 10 ? `${value.toFixed(1)}%` : `${Math.round(value)}%`;
}

/** A delay as `--stop-timeout` takes it: `500ms`, `5s`, `1.5s`, `2m`, `1h`; `0` for none. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms === 0) return '0';
  if (ms < 1000) return `${ms}ms`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
