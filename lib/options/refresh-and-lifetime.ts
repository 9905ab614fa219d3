import { DEFAULTS, type ResolvedOptions } from './resolved.js';
import { isRecord } from '../values.js';

type Problems = string[];

const MAX_LIFETIME_SEC = 365 * 24 * 3600;

function checkKeys(value: Record<string, unknown>, known: readonly string[], prefix: string, problems: Problems): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) problems.push(`"${prefix}.${key}" is not an option (known: ${known.join(', ')})`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return `a value of type ${typeof value}`;
}

function seconds(value: unknown, name: string, fallback: number, min: number, max: number, problems: Problems): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`"${name}" must be a whole number of seconds between ${String(min)} and ${String(max)} (got ${describe(value)})`);
    return fallback;
  }
  return value;
}

export const REFRESH_KEYS = ['automatic', 'earlySeconds'] as const;
export const LIFETIME_KEYS = ['absoluteSec', 'idleSec'] as const;

/** The refresh option: automatic refresh on, 60 seconds early, unless told otherwise. */
export function resolveRefresh(value: unknown, problems: Problems): ResolvedOptions['refresh'] {
  if (value !== undefined && !isRecord(value)) problems.push('"refresh" must be an object ({ automatic?, earlySeconds? })');
  const input = isRecord(value) ? value : {};
  checkKeys(input, REFRESH_KEYS, 'refresh', problems);
  const automatic = input['automatic'] ?? true;
  if (typeof automatic !== 'boolean') problems.push('"refresh.automatic" must be a boolean');
  return {
    automatic: automatic !== false,
    earlySeconds: seconds(input['earlySeconds'], 'refresh.earlySeconds', DEFAULTS.refreshEarlySeconds, 0, 3600, problems),
  };
}

function lifetimeOf(value: unknown, name: string, fallback: number, problems: Problems): number | undefined {
  if (value === false) return undefined;
  return seconds(value, name, fallback, 60, MAX_LIFETIME_SEC, problems);
}

/** The lifetime option: 7 days absolute, 1 day idle, unless told otherwise; false turns one off. */
export function resolveLifetime(value: unknown, problems: Problems): ResolvedOptions['lifetime'] {
  if (value !== undefined && !isRecord(value)) problems.push('"lifetime" must be an object ({ absoluteSec?, idleSec? })');
  const input = isRecord(value) ? value : {};
  checkKeys(input, LIFETIME_KEYS, 'lifetime', problems);
  return {
    absoluteSec: lifetimeOf(input['absoluteSec'], 'lifetime.absoluteSec', DEFAULTS.absoluteSec, problems),
    idleSec: lifetimeOf(input['idleSec'], 'lifetime.idleSec', DEFAULTS.idleSec, problems),
  };
}
