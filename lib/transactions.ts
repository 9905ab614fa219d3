import type { AppSession, LoginTransaction } from './session.js';

/** A login must finish within this time; older transactions are dropped. */
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;
/** Bounds what one browser can pile into its session by opening /login repeatedly. */
const MAX_TRANSACTIONS = 8;

function live(transactions: Record<string, LoginTransaction> | undefined, now: number): [string, LoginTransaction][] {
  return Object.entries(transactions ?? {}).filter(([, tx]) => now - tx.createdAt < TRANSACTION_TTL_MS);
}

/** Keeps a new login transaction, dropping expired ones and the oldest beyond the bound. */
export function addTransaction(session: AppSession, state: string, tx: LoginTransaction): void {
  const kept = live(session.oidc?.transactions, tx.createdAt)
    .sort(([, a], [, b]) => a.createdAt - b.createdAt)
    .slice(-(MAX_TRANSACTIONS - 1));
  session.oidc = { ...session.oidc, transactions: Object.fromEntries([...kept, [state, tx]]) };
}

/**
 * Removes and returns the transaction of this state: it is consumed whether the callback
 * then succeeds or fails, so a state can never be used twice.
 */
export function takeTransaction(session: AppSession, state: string | undefined, now: number): LoginTransaction | undefined {
  const all = session.oidc?.transactions;
  if (state === undefined || all === undefined || !Object.hasOwn(all, state)) return undefined;
  const tx = all[state];
  const rest = Object.fromEntries(Object.entries(all).filter(([key]) => key !== state));
  setTransactions(session, rest);
  return tx !== undefined && now - tx.createdAt < TRANSACTION_TTL_MS ? tx : undefined;
}

/** The transactions still worth keeping (other tabs' logins in flight). */
export function pendingTransactions(session: AppSession, now: number): Record<string, LoginTransaction> {
  return Object.fromEntries(live(session.oidc?.transactions, now));
}

export function setTransactions(session: AppSession, transactions: Record<string, LoginTransaction>): void {
  const { transactions: _dropped, ...rest } = session.oidc ?? {};
  const next = Object.keys(transactions).length > 0 ? { ...rest, transactions } : rest;
  if (Object.keys(next).length > 0) session.oidc = next;
  else delete session.oidc;
}
