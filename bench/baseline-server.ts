import { readFileSync } from 'node:fs';
import express from 'express';

/**
 * The baseline: a minimal Express 5 server that parses the same JSON body the service does (same
 * parser and limit) and answers with a fixed card response of the same size as the service's answer.
 * Whatever the service costs beyond this is the price of its work. Started by bench/run.ts as
 * `node --import tsx bench/baseline-server.ts <response.json>`; prints `listening <port>`.
 */
const response = readFileSync(process.argv[2]!, 'utf8');
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.post('/cds-services/:id', express.json({ limit: 1_048_576, type: () => true, strict: true }), (req, res) => {
  if (typeof req.body !== 'object' || req.body === null) {
    res.status(400).json({ error: 'invalid-request' });
    return;
  }
  res.type('application/json').send(response);
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
