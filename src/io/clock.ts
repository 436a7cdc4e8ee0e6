// Time for devices and in-kernel timers, without importing either side.

/**
 * A source of timed events. `nextDeadline(now)` first raises every event due
 * at `now` (performance.now() milliseconds), then returns when the next one is
 * due (Infinity when none is armed). The VMM calls it before it sleeps.
 */
export interface TimeSource {
  nextDeadline(now: number): number;
}
