import { createServer } from 'node:http';
import { answer } from '../src/scenarios/build-request.js';
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
const NOT_FOUND = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
// The stub shares the machine's cores with the service it stands in for: each URL is answered and
// serialised once, so its own CPU per request stays near that of writing the bytes.
const answers = new Map<string, { status: number; text: string }>();

function answerFor(url: string): { status: number; text: string } {
  let found = answers.get(url);
  if (!found) {
    let body: unknown;
    try {
      body = answer(url.replace(/^\/fhir\/?/, ''), chart.resources);
    } catch {
      body = undefined; // a search parameter the chart cannot answer
    }
    found = body ? { status: 200, text: JSON.stringify(body) } : { status: 404, text: NOT_FOUND };
    answers.set(url, found);
  }
  return found;
}

const server = createServer((req, res) => {
  requests++;
  const { status, text } = answerFor(req.url ?? '');
  if (status !== 200) unmatched++;
  setTimeout(() => {
    res.writeHead(status, { 'content-type': 'application/fhir+json' });
    res.end(text);
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
