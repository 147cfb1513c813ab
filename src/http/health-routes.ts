import { Router } from 'express';
import type { RulesetSource } from '../rules/ruleset.js';

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: a ruleset is loaded). */
export function healthRouter(deps: { rules: RulesetSource }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const status = deps.rules.status();
    const { counts } = deps.rules.current();
    res.json({
      status: 'ready',
      ruleset: {
        version: status.version,
        loadedAt: status.loadedAt,
        rules: counts,
        ...(status.lastError !== undefined && { lastReloadError: status.lastError }),
      },
    });
  });
  return router;
}
