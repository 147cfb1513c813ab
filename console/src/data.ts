import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api';

/** The state of one data call: loading, its answer, or its error message. */
export type Loaded<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; message: string; status?: number };

export function useJson<T>(path: string | undefined): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    if (path === undefined) return;
    let live = true;
    setResult({ state: 'loading' });
    getJson<T>(path).then(
      (data) => live && setResult({ state: 'ok', data }),
      (err: Error & { status?: number }) => live && setResult({ state: 'error', message: err.message, ...(err.status !== undefined && { status: err.status }) }),
    );
    return () => {
      live = false;
    };
  }, [path]);
  return result;
}

/** Runs `task` over `items` with at most `limit` in flight (the dashboard's per-rule trend lines). */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
