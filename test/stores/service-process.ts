import { spawn, type ChildProcess } from 'node:child_process';
import { expect, vi } from 'vitest';

/** The real entry point (src/main.ts) in a child process, with its JSON log lines collected. */
export interface ServiceProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
  /** http://127.0.0.1:<port>, once listening. */
  url(): string;
}

const running: ChildProcess[] = [];

/** Kills (SIGKILL) every service still running: call from afterEach. */
export function killAll(): void {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function startService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', RULES_WATCH: 'off', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const l of parts.filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr,
    exited,
    url() {
      const listening = lines.find((l) => l.msg === 'listening');
      if (!listening) throw new Error('not listening yet');
      return `http://127.0.0.1:${String(listening.port)}`;
    },
  };
}

/** Waits until the service logs `listening` (start-up migrates the store first: PGlite takes seconds). */
export async function listening(service: ServiceProcess, timeout = 180_000): Promise<string> {
  await vi.waitFor(
    () => {
      if (service.child.exitCode !== null) throw new Error(`exited ${service.child.exitCode}: ${service.stderr.join('\n')}`);
      expect(service.lines.some((l) => l.msg === 'listening')).toBe(true);
    },
    { timeout, interval: 100 },
  );
  return service.url();
}
