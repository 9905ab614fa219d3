import session, { type SessionData } from 'express-session';

/** A MemoryStore that counts the calls made to it (express-session's, the package's). */
export class CountingStore extends session.MemoryStore {
  readonly calls = { get: 0, set: 0, touch: 0, destroy: 0 };
  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.calls.get++;
    super.get(sid, callback);
  }
  override set(sid: string, data: SessionData, callback?: (err?: unknown) => void): void {
    this.calls.set++;
    super.set(sid, data, callback);
  }
  override touch(sid: string, data: SessionData, callback?: () => void): void {
    this.calls.touch++;
    super.touch(sid, data, callback);
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.calls.destroy++;
    super.destroy(sid, callback);
  }
}
