import autocannon from 'autocannon';

/** One autocannon run's figures (latencies in ms, autocannon's 1 ms resolution). */
export interface LoadFigures {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** CPU the server process used per request (robust to other load on the machine, unlike latency). */
  cpuMsPerRequest?: number;
  /** Of that, the main thread's (the event loop, which bounds one process's throughput). */
  eventLoopMsPerRequest?: number;
}

export interface LoadOptions {
  url: string;
  body: string;
  connections: number;
  durationS: number;
}

export async function load(options: LoadOptions): Promise<LoadFigures> {
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    connections: options.connections,
    duration: options.durationS,
  });
  return {
    reqPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Several runs of one target: throughput and median averaged, p99 the worst seen (conservative). */
export function combine(runs: LoadFigures[]): LoadFigures {
  const mean = (f: (r: LoadFigures) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
  const sum = (f: (r: LoadFigures) => number) => runs.reduce((s, r) => s + f(r), 0);
  return {
    reqPerSec: Math.round(mean((r) => r.reqPerSec)),
    p50: Math.round(mean((r) => r.p50) * 10) / 10,
    p99: Math.max(...runs.map((r) => r.p99)),
    requests: sum((r) => r.requests),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    cpuMsPerRequest: Math.round(mean((r) => r.cpuMsPerRequest ?? NaN) * 1000) / 1000,
    eventLoopMsPerRequest: Math.round(mean((r) => r.eventLoopMsPerRequest ?? NaN) * 1000) / 1000,
  };
}
