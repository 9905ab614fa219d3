import type { NextFunction, Request, Response } from 'express';
import type { EndedSessions } from '../ended-sessions.js';
import type { TransactionCookies } from '../login-transactions.js';
import type { LoginVault } from '../login-vault.js';
import type { ResolvedOptions } from '../options.js';
import type { Provider } from '../provider.js';

/** What every route factory receives: resolved options, this instance's provider, and the ended sessions no write may bring back. */
export interface RouteContext<TContext> {
  opts: ResolvedOptions<TContext>;
  provider: Provider;
  ended: EndedSessions;
  /** the login transactions, kept in the browser */
  transactions: TransactionCookies;
  /** seals logins for the store, opens them again */
  vault: LoginVault;
}

export type AsyncHandler = (req: Request, res: Response, next: NextFunction) => Promise<void>;
