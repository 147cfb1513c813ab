import { createServer } from 'node:http';
import { answer } from '../src/rules/scenarios/build-request.js';
import { orderSignChart } from './chart.js';

/**
 * A FHIR server on loopback that answers every read and search from the benchmark's order-sign chart
 * after a fixed delay, standing in for the EHR in scenario (3). Started by bench/run.ts as
 * `node --import tsx bench/fhir-stub.ts <delayMs>`; prints `listening <port>`; serves under `/fhir`.
 */
const delayMs = Number(process.argv[2] ?? 50);
const chart = orderSignChart();
let requests = 0;
let unmatched = 0;

const server = createServer((req, res) => {
  requests++;
  const relative = (req.url ?? '').replace(/^\/fhir\/?/, '');
  let body: unknown;
  try {
    body = answer(relative, chart.resources) ?? undefined;
  } catch {
    body = undefined; // a search parameter the chart cannot answer
  }
  if (!body) unmatched++;
  setTimeout(() => {
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify(body ?? { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }));
  }, delayMs);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  console.log(`stats ${JSON.stringify({ requests, unmatched })}`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
