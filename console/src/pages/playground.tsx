import { useEffect, useState } from 'preact/hooks';
import { HOOKS } from '../../../src/shared/hooks';
import { ApiError, getJson, postJson, type ConditionExplanation, type EvaluateAnswer, type ExampleList, type RuleExplanation } from '../api';
import { CardView } from '../components/card-view';
import { Await, Empty } from '../components/status';
import { useJson } from '../data';
import { href, type Route } from '../router';

/**
 * Try a chart: a CDS Hooks request (pasted, an example, a synthetic chart, or built from an uploaded
 * FHIR Bundle) is evaluated by the service against the loaded ruleset with the data given only. What is
 * pasted or uploaded stays in this page's memory: it is not saved in the browser, and the service
 * neither stores nor logs it.
 */
export function Playground(props: { route: Route }) {
  const examples = useJson<ExampleList>('/admin/examples');
  const [text, setText] = useState('');
  const [hook, setHook] = useState('order-sign');
  const [now, setNow] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [answer, setAnswer] = useState<EvaluateAnswer | undefined>();
  const [onlyFired, setOnlyFired] = useState(false);
  const focusRule = props.route.params.get('rule') ?? undefined;

  const load = async (what: Promise<{ request: unknown; now?: string }>) => {
    setError(undefined);
    try {
      const got = await what;
      setText(JSON.stringify(got.request, null, 2));
      const h = (got.request as { hook?: string }).hook;
      if (h) setHook(h);
      if (got.now) setNow(got.now.slice(0, 16));
      setAnswer(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const upload = async (file: File | undefined) => {
    if (!file) return;
    if (file.size > 4 * 1024 * 1024) return setError('That file is over 4 MB; upload a smaller Bundle.');
    let bundle: unknown;
    try {
      bundle = JSON.parse(await file.text());
    } catch {
      return setError(`${file.name} is not JSON.`);
    }
    await load(postJson('/admin/requests/from-bundle', { hook, bundle }));
  };

  const evaluate = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      return setError(`The request is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) return setError('The request must be a JSON object.');
    setBusy(true);
    try {
      const body = { ...request, hook, ...(now && { now: new Date(`${now}:00Z`).toISOString() }) };
      setAnswer(await postJson<EvaluateAnswer>('/admin/evaluate', body));
    } catch (err) {
      setAnswer(undefined);
      setError(err instanceof ApiError ? `The service refused the request (HTTP ${err.status}): ${err.message}` : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    // A hook chosen after the text was loaded is written into the text, so what is shown is what is sent.
    if (!text) return;
    try {
      const r = JSON.parse(text) as Record<string, unknown>;
      if (r.hook !== hook) setText(JSON.stringify({ ...r, hook }, null, 2));
    } catch {
      // not JSON yet: evaluate will say so
    }
  }, [hook]);

  return (
    <section aria-labelledby="playground-title">
      <h2 id="playground-title">Playground</h2>
      <p class="hint">
        Evaluates only the data you give, against the loaded ruleset: nothing is fetched from a FHIR server, and nothing you paste or upload is stored or logged.
      </p>
      <Await value={examples} what="the examples">
        {(list) => (
          <div class="sources">
            <Pick label="Example request" name="example" placeholder="Choose an example…" items={list.examples} onPick={(id) => void load(getJson(`/admin/examples/${encodeURIComponent(id)}`))} />
            <Pick
              label="Synthetic chart"
              name="chart"
              placeholder="Choose a chart…"
              items={list.charts}
              onPick={(id) => void load(getJson(`/admin/charts/${encodeURIComponent(id)}?hook=${encodeURIComponent(hook)}`))}
            />
            <label>
              FHIR Bundle file
              <input type="file" name="bundle" accept=".json,application/json,application/fhir+json" onChange={(e) => void upload(e.currentTarget.files?.[0])} />
            </label>
          </div>
        )}
      </Await>
      <form onSubmit={(e) => void evaluate(e)} class="playground">
        <div class="row">
          <label>
            Hook
            <select name="hook" value={hook} onChange={(e) => setHook(e.currentTarget.value)}>
              {(examples.state === 'ok' ? examples.data.hooks : HOOKS).map((h) => (
                <option key={h} value={h}>
                  {h}
                </option>
              ))}
            </select>
          </label>
          <label>
            "Now" (UTC; empty = the service's clock)
            <input type="datetime-local" name="now" value={now} onChange={(e) => setNow(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy || !text.trim()} class="primary">
            {busy ? 'Evaluating…' : 'Evaluate'}
          </button>
        </div>
        <label class="block">
          CDS Hooks request (JSON)
          <textarea
            name="request"
            rows={16}
            spellcheck={false}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            placeholder='Paste a CDS Hooks request ({"hook": …, "hookInstance": …, "context": …, "prefetch": …}), or choose an example or chart above.'
          />
        </label>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {answer && (
        <div class="results" aria-live="polite">
          <div class="cards-col">
            <h3>Cards ({answer.cards.length})</h3>
            {answer.cards.length === 0 ? (
              <Empty>
                <p>No cards: no active rule fired for this request. The explanation says why each rule did not.</p>
              </Empty>
            ) : (
              <div class="cds-cards" data-testid="cards">
                {answer.cards.map((c, i) => (
                  <CardView key={c.uuid ?? i} card={c} />
                ))}
              </div>
            )}
          </div>
          <div class="explain-col">
            <h3>Explanation</h3>
            <label class="check">
              <input type="checkbox" checked={onlyFired} onChange={(e) => setOnlyFired(e.currentTarget.checked)} /> Only rules that fired
            </label>
            <ul class="explanation" data-testid="explanation">
              {order(answer.explanation, focusRule)
                .filter((x) => !onlyFired || x.outcome === 'fired')
                .map((x, i) => (
                  <li key={`${x.rule}-${x.subject ?? ''}-${i}`}>
                    <Explanation x={x} open={x.rule === focusRule || x.outcome === 'fired'} />
                  </li>
                ))}
            </ul>
          </div>
        </div>
      )}
    </section>
  );
}

/** A labelled list that loads the chosen item and goes back to its placeholder. */
function Pick(props: { label: string; name: string; placeholder: string; items: readonly { id: string; label: string }[]; onPick: (id: string) => void }) {
  return (
    <label>
      {props.label}
      <select name={props.name} value="" onChange={(e) => e.currentTarget.value && props.onPick(e.currentTarget.value)}>
        <option value="">{props.placeholder}</option>
        {props.items.map((x) => (
          <option key={x.id} value={x.id}>
            {x.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function order(list: readonly RuleExplanation[], focus: string | undefined): RuleExplanation[] {
  const rank = (x: RuleExplanation) => (x.rule === focus ? 0 : x.outcome === 'fired' ? 1 : x.outcome === 'error' ? 2 : x.outcome === 'not-fired' ? 3 : 4);
  return [...list].sort((a, b) => rank(a) - rank(b));
}

const OUTCOME: Record<RuleExplanation['outcome'], string> = {
  fired: 'fired',
  'not-fired': 'did not fire',
  'not-applicable': 'not applicable',
  error: 'could not run',
};

function Explanation(props: { x: RuleExplanation; open: boolean }) {
  const { x } = props;
  return (
    <details open={props.open} class={`explain outcome-${x.outcome}`} data-rule={x.rule}>
      <summary>
        <span class={`badge outcome-${x.outcome}`}>{OUTCOME[x.outcome]}</span> <code>{x.rule}</code> {x.version} — {x.title}
        {x.status === 'silent' && <span class="badge">silent</span>}
        {x.subject && <span class="sub"> · for {x.subject}</span>}
      </summary>
      {x.reason && <p class="reason">{x.reason}</p>}
      {x.dataQuality && x.dataQuality.length > 0 && (
        <div class="dq">
          <strong>Why a data-quality card was raised:</strong>
          <ul>
            {x.dataQuality.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        </div>
      )}
      {x.conditions && <ExplainCondition c={x.conditions} />}
      <p>
        <a href={href(`/rules/${encodeURIComponent(x.rule)}`)}>Rule detail and analytics</a>
      </p>
    </details>
  );
}

function ExplainCondition(props: { c: ConditionExplanation }) {
  const { c } = props;
  const mark = c.skipped ? <span class="mark skipped" aria-label="not needed">–</span> : c.passed ? <span class="mark pass" aria-label="passed">✓</span> : <span class="mark fail" aria-label="failed">✗</span>;
  if (c.group) {
    return (
      <div class="cond-group">
        {mark} <span class="cond-op">{c.group === 'all' ? 'ALL of' : c.group === 'any' ? 'ANY of' : 'NOT'}</span>
        <ul>
          {c.children?.map((child, i) => (
            <li key={i}>
              <ExplainCondition c={child} />
            </li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <div class={`cond-leaf ${c.skipped ? 'skipped' : c.passed ? 'pass' : 'fail'}${c.decides ? ' decides' : ''}`}>
      {mark} <code>{c.label ?? c.fact}</code> <strong>{c.operator}</strong> {c.threshold}
      {c.decides && <span class="badge decides">decides</span>}
      <div class="read">
        read: <strong>{c.value ?? 'no value'}</strong>
        {c.date && <> (dated {c.date})</>}
        {c.skipped && <> — not needed: an earlier condition of this group already decided it</>}
      </div>
    </div>
  );
}
