import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { ROOT } from './chart.js';

/**
 * The child processes of one benchmark run. Every process started here is remembered by PID and
 * stopped by PID when the run ends, whether it ends well or not.
 */
const children = new Set<ChildProcess>();

export function stopAll(): void {
  for (const child of children) stop(child);
}

export function stop(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  children.delete(child);
}

/** Waits for a child to exit, killing it with SIGKILL after `ms`. */
export function exited(child: ChildProcess, ms = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function launch(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves with the first stdout line matching `pattern`; rejects if the child exits first or after `ms`. */
export function waitForLine(child: ChildProcess, pattern: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${stderr.slice(-500)}`)), ms);
    lines.on('line', (line) => {
      const match = pattern.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}: ${stderr.slice(-500)}`));
    });
  });
}

/** Keeps reading a child's output so a full pipe never blocks it (the service logs one line per request). */
export function drain(child: ChildProcess): void {
  child.stdout!.resume();
  child.stderr!.resume();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Peak resident set size of a process since it started (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 102.4) / 10;
}

/** Polls `url` until it answers 200; returns the milliseconds since `since`. */
export async function until200(url: string, since: number, ms = 15_000): Promise<number> {
  const deadline = since + ms;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} did not answer 200 within ${ms} ms`);
}

/**
 * CPU time (user + system) in milliseconds (Linux clock ticks of 10 ms): of the whole process, or with
 * `mainThread` of its main thread only, the one that runs the event loop (the rest is V8's garbage
 * collection and compiler threads, and libuv's pool).
 */
export function cpuMs(pid: number, { mainThread = false } = {}): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
  const fields = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
