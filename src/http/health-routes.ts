import { Router } from 'express';
import type { RulesetSource } from '../rules/ruleset.js';
import type { Stores } from '../stores/ports.js';

/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`). Both are open to anyone who can
 * reach the port, so they say only what a load balancer needs: ready while a ruleset serves (200, with
 * its version and coarse `reload` and `store` statuses), 503 only when none is loaded. Why a reload was refused
 * (file names, messages) is in the log, never here.
 */
export function healthRouter(deps: { rules: RulesetSource; stores: Pick<Stores, 'status'> }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const ruleset = currentRuleset(deps.rules);
    if (!ruleset) {
      res.status(503).json({ status: 'unavailable', ruleset: null });
      return;
    }
    const status = deps.rules.status();
    res.json({
      status: 'ready',
      ruleset: { version: status.version, loadedAt: status.loadedAt, rules: ruleset.counts },
      reload: status.lastError === undefined ? 'ok' : 'refused',
      // `degraded`: the store cannot write; hooks still answer (200, so the pod stays in service).
      store: deps.stores.status(),
    });
  });
  return router;
}

function currentRuleset(rules: RulesetSource): ReturnType<RulesetSource['current']> | undefined {
  try {
    return rules.current() ?? undefined;
  } catch {
    return undefined;
  }
}
