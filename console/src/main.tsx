import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, useAuth, type RulesetDocument } from './api';
import { createAuth, loadConfig, type Auth } from './auth';
import { Await } from './components/status';
import type { Loaded } from './data';
import { Dashboard } from './pages/dashboard';
import { Playground } from './pages/playground';
import { RulePage } from './pages/rule';
import { RulesetPage } from './pages/ruleset';
import { href, useRoute } from './router';
import './styles.css';

/**
 * The console shell. It loads without credentials and shows no data until the service has accepted
 * the operator's credential: every data call carries it in the Authorization header.
 */
function App(props: { auth: Auth }) {
  const { auth } = props;
  const route = useRoute();
  const [signedIn, setSignedIn] = useState<boolean | undefined>(undefined);
  const [refusal, setRefusal] = useState<string | undefined>();
  const [ruleset, setRuleset] = useState<Loaded<RulesetDocument>>({ state: 'loading' });

  const refresh = useCallback(async () => {
    if (!(await auth.ready())) return setSignedIn(false);
    try {
      setRuleset({ state: 'ok', data: await getJson<RulesetDocument>('/admin/ruleset') });
      setSignedIn(true);
      setRefusal(undefined);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setRefusal(err.message);
        if (auth.mode !== 'loopback') await auth.signOut();
        setSignedIn(false);
      } else {
        setSignedIn(true);
        setRuleset({ state: 'error', message: (err as Error).message });
      }
    }
  }, [auth]);

  useEffect(() => {
    useAuth(auth, () => {
      setSignedIn(false);
      setRefusal('The service no longer accepts your credential; sign in again.');
    });
    void refresh();
  }, [auth, refresh]);

  const page = route.path[0] ?? '';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>
          <a href={href('/')}>inotrope-cds console</a>
        </h1>
        {signedIn && (
          <nav aria-label="Console">
            <a href={href('/')} aria-current={page === '' || page === 'rules' ? 'page' : undefined}>
              Rules
            </a>
            <a href={href('/ruleset')} aria-current={page === 'ruleset' ? 'page' : undefined}>
              Ruleset
            </a>
            <a href={href('/playground')} aria-current={page === 'playground' ? 'page' : undefined}>
              Playground
            </a>
            {auth.mode !== 'loopback' && (
              <button
                type="button"
                class="link"
                onClick={() => {
                  void auth.signOut().then(() => setSignedIn(false));
                }}
              >
                Sign out
              </button>
            )}
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {signedIn === undefined ? (
          <p role="status">Checking your access…</p>
        ) : !signedIn ? (
          <SignIn auth={auth} refusal={refusal} onDone={() => void refresh()} />
        ) : (
          <Await value={ruleset} what="the ruleset">
            {(rs) =>
              page === 'ruleset' ? (
                <RulesetPage ruleset={rs} />
              ) : page === 'playground' ? (
                <Playground route={route} />
              ) : page === 'rules' && route.path[1] ? (
                <RulePage key={route.path[1]} id={route.path[1]} route={route} ruleset={rs} />
              ) : (
                <Dashboard route={route} ruleset={rs} />
              )
            }
          </Await>
        )}
      </main>
    </>
  );
}

function SignIn(props: { auth: Auth; refusal: string | undefined; onDone: () => void }) {
  const [token, setToken] = useState('');
  const { auth } = props;
  return (
    <section class="signin" aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      {props.refusal && (
        <p class="error" role="alert" data-testid="refusal">
          {props.refusal}
        </p>
      )}
      {auth.mode === 'token' && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            auth.setToken(token);
            setToken('');
            props.onDone();
          }}
        >
          <p>Enter the operator token (the service's ADMIN_TOKEN). It is kept in this tab only and forgotten when you close it.</p>
          <label>
            Operator token
            <input type="password" name="token" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
          </label>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      )}
      {auth.mode === 'oidc' && (
        <>
          <p>Sign in with your organisation's identity provider; your account needs the console's admin role.</p>
          <button type="button" class="primary" onClick={() => void auth.signIn()}>
            Sign in
          </button>
        </>
      )}
      {auth.mode === 'loopback' && (
        <p>
          This service has no operator credential configured, so its admin data answers only on the machine itself (loopback). Open the console on that
          machine, or ask for ADMIN_TOKEN or OIDC to be configured (docs/operations.md).{' '}
          <button type="button" onClick={props.onDone}>
            Try again
          </button>
        </p>
      )}
    </section>
  );
}

async function start() {
  const root = document.getElementById('app')!;
  try {
    const auth = await createAuth(await loadConfig());
    render(<App auth={auth} />, root);
  } catch (err) {
    root.textContent = `The console could not start: ${(err as Error).message}`;
  }
}

void start();
