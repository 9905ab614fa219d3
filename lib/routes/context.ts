import type { NextFunction, Request, Response } from 'express';
import type { ResolvedOptions } from '../options.js';
import type { Provider } from '../provider.js';

/** What every route factory receives: resolved options and this instance's provider. */
export interface RouteContext<TContext> {
  opts: ResolvedOptions<TContext>;
  provider: Provider;
}

export type AsyncHandler = (req: Request, res: Response, next: NextFunction) => Promise<void>;
