import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

/* The real entry point (src/main.ts) in a child process: SIGTERM lets in-flight hook calls finish, then exits. */

const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
});

/** A FHIR server on loopback that answers every read and search after a delay, with nothing in it. */
async function slowFhirServer(delayMs: number): Promise<string> {
  const server = createServer((req, res) => {
    setTimeout(() => {
      res.setHeader('content-type', 'application/fhir+json');
      const isRead = /\/Patient\/[^/?]+$/.test(req.url ?? '');
      res.end(JSON.stringify(isRead ? { resourceType: 'Patient', id: 'stage-d-ckd-furosemide' } : { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] }));
    }, delayMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
}

describe('graceful shutdown', () => {
  it('finishes a request in flight when SIGTERM arrives, then exits 0', async () => {
    const fhir = await slowFhirServer(400);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        CDS_AUTH: 'off',
        PORT: '0',
        RULES_WATCH: 'off',
        LOG_LEVEL: 'info',
        FHIR_SERVER_ALLOWLIST: fhir,
        FHIR_BUDGET_MS: '1500',
        FHIR_REQUEST_TIMEOUT_MS: '1000',
        REQUEST_TIMEOUT_MS: '3000',
        // The embedded database in a directory of its own (it holds one process at a time).
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'inotrope-shutdown-')),
        DATABASE_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Start-up opens and migrates the embedded database first: seconds on a loaded machine.
    await vi.waitFor(() => expect(lines.some((l) => l.msg === 'listening')).toBe(true), { timeout: 180_000, interval: 100 });
    const port = String(lines.find((l) => l.msg === 'listening')!.port);

    const body = JSON.parse(readFileSync('examples/order-sign-no-prefetch.json', 'utf8')) as Record<string, unknown>;
    body.fhirServer = fhir;
    const inFlight = fetch(`http://127.0.0.1:${port}/cds-services/inotrope-order-sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    let answered = false;
    void inFlight.finally(() => (answered = true));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGTERM');

    // While the call is still in flight, the service stops taking new connections.
    await vi.waitFor(() => expect(lines.some((l) => l.msg === 'shutting down: finishing in-flight requests')).toBe(true), { timeout: 5_000, interval: 10 });
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(answered).toBe(false);

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty('cards');
    expect(await exited).toBe(0);
    expect(lines.map((l) => l.msg)).toContain('stopped');
  }, 300_000);
});
