/**
 * Which FHIR servers may receive the EHR's access token. Entries and the request's fhirServer are
 * compared as normalised base URLs: scheme, host and port exactly, then the entry's path as a prefix
 * on whole segments (`/fhir` admits `/fhir` and `/fhir/r4`, not `/fhir2`); trailing slashes and the
 * case of scheme and host do not matter.
 */

import { trimEnd } from '../shared/syntax.js';

export interface BaseUrl {
  origin: string;
  /** Path without trailing slash; `''` for the root. */
  path: string;
}

/** Parses an http(s) base URL; undefined for anything else (other schemes, credentials, query, fragment). */
export function parseBaseUrl(raw: string): BaseUrl | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  if (!plainPath(url.pathname)) return undefined;
  return { origin: url.origin, path: trimEnd(url.pathname, '/') };
}

/** True when `url` (absolute) lies under `base`: same origin, and the path is the base path or below it. */
export function isUnder(url: URL, base: BaseUrl): boolean {
  return url.origin === base.origin && plainPath(url.pathname) && (url.pathname === base.path || url.pathname.startsWith(`${base.path}/`));
}

/**
 * Whether every segment of a path, decoded, is a plain name: no `/` or `\` inside (`%2f`, `%5c`) and not
 * `.` or `..`. A server that decodes `…/fhir/..%2fadmin` would otherwise leave the allowlisted base after
 * the prefix check passed (applies to fhirServer, next links and redirects alike).
 */
function plainPath(pathname: string): boolean {
  for (const segment of pathname.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    if (decoded === '.' || decoded === '..' || decoded.includes('/') || decoded.includes('\\')) return false;
  }
  return true;
}

export function isAllowed(fhirServer: string, allowlist: readonly string[]): boolean {
  const server = parseBaseUrl(fhirServer);
  if (!server) return false;
  const serverUrl = new URL(`${server.origin}${server.path}`);
  return allowlist.some((entry) => {
    const base = parseBaseUrl(entry);
    return base !== undefined && isUnder(serverUrl, base);
  });
}
