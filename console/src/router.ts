import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`#/rules/DUR-48H?bucket=week`): the service serves one page, and links survive a reload. */
export interface Route {
  path: string[];
  params: URLSearchParams;
}

function parse(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = hash.split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const onChange = () => setRoute(parse());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function href(path: string, params?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

/** Replaces the query of the current route without adding a history entry per keystroke. */
export function replaceParams(params: Record<string, string | undefined>): void {
  const path = (location.hash.replace(/^#/, '') || '/').split('?')[0];
  history.replaceState(null, '', href(path ?? '/', params));
}
