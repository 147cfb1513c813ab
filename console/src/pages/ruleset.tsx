import { useState } from 'preact/hooks';
import { getJson, query, type CodeMatch, type RulesetDocument, type ScenarioRun } from '../api';
import { Await, Empty } from '../components/status';
import { useJson, type Loaded } from '../data';
import { dateTime } from '../format';
import { href } from '../router';

export function RulesetPage(props: { ruleset: RulesetDocument }) {
  const r = props.ruleset;
  const scenarios = useJson<ScenarioRun>(`/admin/ruleset/scenarios`);
  return (
    <section aria-labelledby="ruleset-title">
      <h2 id="ruleset-title">Ruleset</h2>
      <dl class="facts">
        <dt>Version</dt>
        <dd data-testid="ruleset-version">
          <code>{r.version}</code>
        </dd>
        <dt>Loaded</dt>
        <dd>{dateTime(r.loadedAt)}</dd>
        <dt>Rules</dt>
        <dd>
          {r.counts.active} active, {r.counts.silent} silent, {r.counts.retired} retired
        </dd>
      </dl>
      <h3>Last reload</h3>
      {r.lastReload && r.lastReload.errors.length > 0 ? (
        <div class="error" role="alert" data-testid="reload-errors">
          <p>
            The reload at {dateTime(r.lastReload.at)} was refused; version <code>{r.version}</code> keeps serving. Fix these and save again:
          </p>
          <LoadErrors errors={r.lastReload.errors} />
        </div>
      ) : (
        <p>No reload error: the files on disk are the ones serving.</p>
      )}

      <h3 id="code-search-title">Find a code</h3>
      <CodeSearch />

      <h3>Value sets ({r.valueSets.length})</h3>
      <table class="data" data-testid="value-sets">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Title and source</th>
            <th scope="col" class="num">Codes</th>
            <th scope="col">Code systems</th>
            <th scope="col">Used by</th>
          </tr>
        </thead>
        <tbody>
          {r.valueSets.map((vs) => (
            <tr key={vs.name}>
              <th scope="row">
                <code>{vs.name}</code>
              </th>
              <td>
                {vs.title}
                <div class="sub">{vs.source}</div>
              </td>
              <td class="num">{vs.codeCount}</td>
              <td>
                {Object.entries(vs.systems).map(([s, n]) => (
                  <div key={s} class="sub">
                    {systemName(s)} ({n})
                  </div>
                ))}
              </td>
              <td>{vs.usedBy.length ? vs.usedBy.map((id) => <RuleLink key={id} id={id} />) : <span class="sub">settings or unused</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>Thresholds ({r.thresholds.length})</h3>
      <table class="data" data-testid="thresholds">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" class="num">Value</th>
            <th scope="col">Newest value no older than</th>
            <th scope="col">Source</th>
            <th scope="col">Used by</th>
          </tr>
        </thead>
        <tbody>
          {r.thresholds.map((t) => (
            <tr key={t.name}>
              <th scope="row">
                <code>{t.name}</code>
              </th>
              <td class="num">
                {t.value} {t.unit}
              </td>
              <td>{t.maxAge ?? '—'}</td>
              <td class="sub">{t.source}</td>
              <td>{t.usedBy.map((id) => <RuleLink key={id} id={id} />)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>Tables ({r.tables.length})</h3>
      {r.tables.map((t) => (
        <details key={t.name}>
          <summary>
            <code>{t.name}</code> — {t.rows.length} rows{t.usedBy.length > 0 && <> · used by {t.usedBy.join(', ')}</>}
          </summary>
          <p class="sub">{t.source}</p>
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Input {unitOf(t.input)}</th>
                <th scope="col">Output {unitOf(t.output)}</th>
              </tr>
            </thead>
            <tbody>
              {t.rows.map((row, i) => (
                <tr key={i}>
                  <td class="num">{String(row[0])}</td>
                  <td class="num">{String(row[1])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}

      <h3>Scenario tests</h3>
      <Scenarios value={scenarios} />
    </section>
  );
}

function Scenarios(props: { value: Loaded<ScenarioRun> }) {
  return (
    <Await value={props.value} what="the scenario results">
      {(run) =>
        run.results.length === 0 ? (
          <Empty>
            <p>No scenario tests: add them under the ruleset's tests/ folder (docs/authoring-rules.md).</p>
          </Empty>
        ) : (
          <>
            {run.errors.length > 0 && (
              <div class="error" role="alert">
                <p>Some scenario files could not be read:</p>
                <LoadErrors errors={run.errors} />
              </div>
            )}
            <p data-testid="scenario-summary" class={run.failed > 0 ? 'error' : 'ok'}>
              {run.passed} passed, {run.failed} failed (ruleset {run.version})
            </p>
            <table class="data" data-testid="scenarios">
              <thead>
                <tr>
                  <th scope="col">Result</th>
                  <th scope="col">Scenario</th>
                  <th scope="col">Hook</th>
                  <th scope="col">Rules that fired</th>
                </tr>
              </thead>
              <tbody>
                {[...run.results]
                  .sort((a, b) => Number(a.passed) - Number(b.passed))
                  .map((s, i) => (
                    <tr key={i} class={s.passed ? undefined : 'failed'}>
                      <td>{s.passed ? '✓ passed' : '✗ failed'}</td>
                      <td>
                        {s.name}
                        <div class="sub">{s.file}</div>
                        {s.problems.map((p) => (
                          <div key={p} class="problem">
                            {p}
                          </div>
                        ))}
                      </td>
                      <td>{s.hook}</td>
                      <td class="sub">{s.fired.join(', ')}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </>
        )
      }
    </Await>
  );
}

function CodeSearch() {
  const [text, setText] = useState('');
  const [hits, setHits] = useState<Loaded<{ codes: CodeMatch[] }> | undefined>();
  const search = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setHits({ state: 'loading' });
    try {
      setHits({ state: 'ok', data: await getJson<{ codes: CodeMatch[] }>(`/admin/codes${query({ q: text.trim() })}`) });
    } catch (err) {
      setHits({ state: 'error', message: (err as Error).message });
    }
  };
  return (
    <div aria-labelledby="code-search-title">
      <form class="inline" onSubmit={(e) => void search(e)}>
        <label>
          Code or words of its display
          <input type="search" name="q" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="e.g. 1791840 or hypertrophic" maxLength={100} />
        </label>
        <button type="submit">Search</button>
      </form>
      {hits && (
        <Await value={hits} what="codes">
          {(data) =>
            data.codes.length === 0 ? (
              <p role="status">No value set holds a code like that.</p>
            ) : (
              <table class="data" data-testid="code-hits">
                <thead>
                  <tr>
                    <th scope="col">Code</th>
                    <th scope="col">Value sets</th>
                    <th scope="col">Rules that use them</th>
                  </tr>
                </thead>
                <tbody>
                  {data.codes.map((c) => (
                    <tr key={`${c.system}|${c.code}`}>
                      <th scope="row">
                        <code>{c.code}</code> {c.display}
                        <div class="sub">{systemName(c.system)}</div>
                      </th>
                      <td>
                        {c.valueSets.map((v) => (
                          <div key={v.name}>
                            <code>{v.name}</code> <span class="sub">{v.title}</span>
                          </div>
                        ))}
                      </td>
                      <td>{[...new Set(c.valueSets.flatMap((v) => v.rules))].map((id) => <RuleLink key={id} id={id} />)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Await>
      )}
    </div>
  );
}

function RuleLink(props: { id: string }) {
  // The settings (inotropes, IV route, weight) are read by every rule rather than by one.
  if (props.id === 'settings') return <span class="rule-chip sub">settings (every rule)</span>;
  return (
    <a class="rule-chip" href={href(`/rules/${encodeURIComponent(props.id)}`)}>
      {props.id}
    </a>
  );
}

const SYSTEMS: Record<string, string> = {
  'http://snomed.info/sct': 'SNOMED CT',
  'http://loinc.org': 'LOINC',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
  'http://hl7.org/fhir/sid/ndc': 'NDC',
  'http://unitsofmeasure.org': 'UCUM',
};

function systemName(system: string): string {
  return SYSTEMS[system] ?? system;
}

function unitOf(part: unknown): string {
  const unit = (part as { unit?: string } | undefined)?.unit;
  return unit ? `(${unit})` : '';
}

/** Errors of rule or scenario files, each with its file and JSON pointer, as `rules:check` prints them. */
function LoadErrors(props: { errors: readonly { file: string; pointer?: string; message: string }[] }) {
  return (
    <ul>
      {props.errors.map((e, i) => (
        <li key={i}>
          <code>
            {e.file}
            {e.pointer && `#${e.pointer}`}
          </code>
          : {e.message}
        </li>
      ))}
    </ul>
  );
}
