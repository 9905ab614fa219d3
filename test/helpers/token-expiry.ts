import { mock } from 'node:test';

/**
 * Moves the process clock (Date only: timers keep real time) past the access token's
 * lifetime (an hour at the provider), so the next read finds it expired. No sleeps.
 */
export function afterTokenExpiry(): void {
  mock.timers.reset();
  mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
}
