import type { ResolvedRestartPolicy } from '../config.js';

/**
 * When to bring a crashed worker back. The first crash after a stable run respawns at once;
 * each further fast crash doubles the delay (with jitter, so a group that crashes together does
 * not respawn together) up to a ceiling. By default it never gives up: a slot is never silently
 * abandoned, unlike PM2's 16 unstable restarts.
 */
export class RestartPolicy {
  constructor(
    readonly options: ResolvedRestartPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * The crash streak after a crash of a worker that lived `uptimeMs`: a stable worker resets it.
   */
  nextStreak(previousStreak: number, uptimeMs: number): number {
    return uptimeMs >= this.options.stableAfterMs ? 1 : previousStreak + 1;
  }

  /** Delay before the respawn for this streak (1 = first crash), or null when the cap is reached. */
  delayFor(streak: number): number | null {
    if (streak > this.options.maxRestarts) return null;
    if (streak <= 1) return 0;
    const { initialDelayMs, maxDelayMs, factor } = this.options;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * factor ** (streak - 2));
    // "Equal jitter": at least half the ceiling, so backoff still bounds the crash rate.
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }
}
