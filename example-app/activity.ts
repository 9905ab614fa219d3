/**
 * The example's own "service", handed to the hooks through oidcAuth's `context` option:
 * a small in-memory record of sign-ins and sign-outs, shown on the profile page.
 * A real app would put its database or audit client here.
 */

export interface ActivityEntry {
  sub: string;
  event: 'signed in' | 'signed out';
  /** how it happened: "login", "logout", "backchannel"… */
  via: string;
  at: Date;
}

export class ActivityLog {
  readonly #entries: ActivityEntry[] = [];
  readonly #limit: number;

  constructor(limit = 200) {
    this.#limit = limit;
  }

  record(entry: Omit<ActivityEntry, 'at'>): void {
    this.#entries.push({ ...entry, at: new Date() });
    if (this.#entries.length > this.#limit) this.#entries.shift();
  }

  /** the user's entries, newest first */
  forUser(sub: string, max = 10): readonly ActivityEntry[] {
    return this.#entries
      .filter((e) => e.sub === sub)
      .reverse()
      .slice(0, max);
  }
}

/** What every hook receives as `context`: typed end to end, no casts. */
export interface ExampleContext {
  activity: ActivityLog;
}
