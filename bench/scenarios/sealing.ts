import { performance } from 'node:perf_hooks';
import { createLoginVault } from '../../lib/login/login-vault.js';
import { createSealer } from '../../lib/crypto/sealing.js';
import type { StoredLogin } from '../../lib/session/session.js';
import { median } from '../harness/stats.js';
import { openStoredLogin } from '../harness/open-login.js';
import { SESSION_SECRET } from '../harness/topology.js';

export interface SealingResult {
  iterations: number;
  /** µs per operation, one median per round */
  sealLoginMicros: number[];
  openClaimsMicros: number[];
  openAllMicros: number[];
  /** JSON.parse of the stored session document alone: what every store read already pays */
  parseDocumentMicros: number[];
}

/**
 * Scenario 7: what sealing costs, in the orchestrator's process, on the login of a real
 * session (opened from Redis). An authenticated request that reads the user opens the claims
 * only; one that uses a token opens both; a login, a refresh or an activity note seals.
 * Every open works on a freshly parsed record, as a store read gives one, so no cache helps.
 */
export function measureSealing(storedDocument: string, rounds: number, iterations: number): SealingResult {
  const login = openStoredLogin(storedDocument, SESSION_SECRET);
  const vault = createLoginVault(createSealer(SESSION_SECRET));
  const perOp = (work: () => void): number => {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) work();
    return ((performance.now() - started) * 1000) / iterations;
  };
  const sealed = JSON.stringify({ oidc: { login: vault.seal(login) } });
  const fresh = (): StoredLogin => {
    const parsed = JSON.parse(sealed) as { oidc: { login: StoredLogin } };
    return parsed.oidc.login;
  };
  const result: SealingResult = { iterations, sealLoginMicros: [], openClaimsMicros: [], openAllMicros: [], parseDocumentMicros: [] };
  // one warm-up round, not counted, so the JIT has settled
  for (let round = 0; round <= rounds; round++) {
    const seal = perOp(() => vault.seal(login));
    const parse = perOp(() => fresh());
    const claims = perOp(() => {
      if (vault.claims(fresh()) === undefined) throw new Error('the sealed claims did not open');
    });
    const all = perOp(() => {
      if (vault.open(fresh()) === undefined) throw new Error('the sealed login did not open');
    });
    if (round === 0) continue;
    result.sealLoginMicros.push(seal);
    result.parseDocumentMicros.push(parse);
    // the parse is measured alone and taken out: it is the store's cost, not sealing's
    result.openClaimsMicros.push(claims - parse);
    result.openAllMicros.push(all - parse);
  }
  return result;
}

export const medianMicros = (v: readonly number[]): string => `${median(v).toFixed(1)} µs`;
