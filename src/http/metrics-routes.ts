import { Router } from 'express';
import type { Metrics } from '../observability/metrics.js';

/**
 * `GET /metrics`: Prometheus text exposition. Not behind client JWT authentication (scrapers carry no
 * CDS client JWT); operators keep it off the public path at the network level (docs/operations.md) or
 * turn it off with METRICS_ENABLED=off.
 */
export function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.exposition();
    res.type(contentType).send(body);
  });
  return router;
}
