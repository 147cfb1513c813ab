import { UserManager, WebStorageStateStore } from 'oidc-client-ts';

/**
 * How the console proves to the service that its user is an operator. The service says which mode it
 * runs in (`/console/config.json`, no secrets): a shared token (`ADMIN_TOKEN`), OIDC (authorization
 * code with PKCE), or none (admin routes answer loopback callers only). The credential lives in this
 * tab only (sessionStorage) and goes out as an `Authorization` header, never as a cookie.
 */

export type ConsoleConfig =
  | { auth: 'token' }
  | { auth: 'loopback' }
  | { auth: 'oidc'; oidc: { authority: string; clientId: string; scope: string } };

const TOKEN_KEY = 'inotrope-cds.admin-token';

export interface Auth {
  readonly mode: ConsoleConfig['auth'];
  /** The header value to send, or undefined when there is no credential yet. */
  header(): Promise<string | undefined>;
  /** Whether data calls may be tried (a credential is held, or none is needed). */
  ready(): Promise<boolean>;
  /** Token mode: keep the token the operator typed, for this tab only. */
  setToken(token: string): void;
  /** OIDC mode: go to the identity provider. */
  signIn(): Promise<void>;
  signOut(): Promise<void>;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/console/config.json', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`The service did not give the console its settings (HTTP ${res.status}).`);
  return (await res.json()) as ConsoleConfig;
}

export async function createAuth(config: ConsoleConfig): Promise<Auth> {
  if (config.auth === 'oidc') return oidcAuth(config.oidc);
  const tokenMode = config.auth === 'token';
  return {
    mode: config.auth,
    header: async () => {
      const token = tokenMode ? sessionStorage.getItem(TOKEN_KEY) : null;
      return token ? `Bearer ${token}` : undefined;
    },
    ready: async () => !tokenMode || sessionStorage.getItem(TOKEN_KEY) !== null,
    setToken: (token) => sessionStorage.setItem(TOKEN_KEY, token.trim()),
    signIn: async () => {},
    signOut: async () => sessionStorage.removeItem(TOKEN_KEY),
  };
}

async function oidcAuth(oidc: { authority: string; clientId: string; scope: string }): Promise<Auth> {
  const redirect = `${location.origin}/console/`;
  const manager = new UserManager({
    authority: oidc.authority,
    client_id: oidc.clientId,
    redirect_uri: redirect,
    post_logout_redirect_uri: redirect,
    response_type: 'code',
    scope: oidc.scope,
    // Tab-only storage for the user (tokens) and for the PKCE state of a sign-in in progress.
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    stateStore: new WebStorageStateStore({ store: sessionStorage }),
    automaticSilentRenew: false,
  });
  const query = new URLSearchParams(location.search);
  if (query.has('code') && query.has('state')) {
    await manager.signinRedirectCallback();
    // Drop the code and state from the address bar (and from history).
    history.replaceState(null, '', `${location.pathname}${location.hash}`);
  }
  const user = async () => {
    const u = await manager.getUser();
    return u && !u.expired ? u : null;
  };
  return {
    mode: 'oidc',
    header: async () => {
      const u = await user();
      return u ? `Bearer ${u.access_token}` : undefined;
    },
    ready: async () => (await user()) !== null,
    setToken: () => {},
    signIn: () => manager.signinRedirect({ state: location.hash }),
    signOut: async () => {
      await manager.removeUser();
    },
  };
}
