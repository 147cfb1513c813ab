import { useState } from 'preact/hooks';
import { query, type RuleAnalytics, type RulesetDocument, type Timeseries } from '../api';
import { BarChart, COLORS, TimeChart } from '../components/charts';
import { ConditionTree } from '../components/rule-text';
import { Await, Empty } from '../components/status';
import { useJson } from '../data';
import { count, percent, reasonLabel } from '../format';
import { href, type Route } from '../router';
import { filtersOf, range } from './dashboard';

export function RulePage(props: { id: string; route: Route; ruleset: RulesetDocument }) {
  const filters = filtersOf(props.route.params);
  const { from, to } = range(filters);
  const [bucket, setBucket] = useState<'day' | 'week'>(props.route.params.get('bucket') === 'week' || Number(filters.window) > 60 ? 'week' : 'day');
  const rule = props.ruleset.rules.find((r) => r.id === props.id);
  const stats = useJson<{ rules: RuleAnalytics[] }>(`/analytics/rules${query({ from, to })}`);
  const series = useJson<Timeseries>(`/analytics/rules/${encodeURIComponent(props.id)}/timeseries${query({ bucket, from, to })}`);
  const reasons = [...props.ruleset.overrideReasons, ...((rule?.card.overrideReasons as RulesetDocument['overrideReasons'] | undefined) ?? [])];

  return (
    <section aria-labelledby="rule-title">
      <p>
        <a href={href('/', { window: filters.window })}>← All rules</a>
      </p>
      <h2 id="rule-title">
        <code>{props.id}</code> {rule ? rule.title : '(not in the loaded ruleset)'}
      </h2>
      {rule && (
        <p class="meta">
          Version {rule.version} · {rule.category} · <span class={`mode mode-${rule.status}`}>{rule.status}</span> · hooks {rule.hooks.join(', ')} · {rule.scope ?? 'patient'}{' '}
          scope · file <code>{rule.file}</code>
        </p>
      )}
      <p class="hint">
        Window: {from} to {to} (UTC, end exclusive).{' '}
        <a href={href('/playground', { rule: props.id })}>Try this rule in the playground</a>
      </p>

      <h3>Cards over time</h3>
      <label>
        Bucket{' '}
        <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value as 'day' | 'week')} name="bucket">
          <option value="day">per day</option>
          <option value="week">per week (from Monday)</option>
        </select>
      </label>
      <Await value={series} what="the time series">
        {(t) =>
          t.points.every((p) => p.shown + p.accepted + p.overridden + p.silentFirings === 0) ? (
            <Empty>
              <p>No cards from this rule in the window: they appear here once EHRs call the services and this rule fires.</p>
            </Empty>
          ) : (
            <TimeChart
              title={`${props.id}: cards per ${t.bucket}`}
              bucket={t.bucket}
              starts={t.points.map((p) => p.start)}
              series={[
                { label: 'shown', values: t.points.map((p) => p.shown), color: COLORS.shown },
                { label: 'accepted', values: t.points.map((p) => p.accepted), color: COLORS.accepted },
                { label: 'overridden', values: t.points.map((p) => p.overridden), color: COLORS.overridden },
                ...(rule?.status === 'silent' || t.points.some((p) => p.silentFirings > 0)
                  ? [{ label: 'silent firings', values: t.points.map((p) => p.silentFirings), color: COLORS.silent }]
                  : []),
              ]}
            />
          )
        }
      </Await>

      <Await value={stats} what="the rule's analytics">
        {(data) => {
          const versions = data.rules.filter((r) => r.id === props.id).sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }));
          const overrideReasons = sum(versions.map((v) => v.overrideReasons));
          const accepted = sum(versions.map((v) => v.acceptedSuggestions));
          const reasonKeys = Object.keys(overrideReasons).sort((a, b) => overrideReasons[b]! - overrideReasons[a]!);
          return (
            <>
              <h3>Why clinicians override it</h3>
              {reasonKeys.length === 0 ? (
                <Empty>
                  <p>No overrides in this window: reasons appear here once EHRs send feedback for this rule's cards.</p>
                </Empty>
              ) : (
                <BarChart
                  title="Override reasons"
                  labels={reasonKeys.map((k) => reasonLabel(k, reasons))}
                  values={reasonKeys.map((k) => overrideReasons[k]!)}
                  color={COLORS.overridden}
                />
              )}
              <h3>Suggestions clinicians accept</h3>
              {Object.keys(accepted).length === 0 ? (
                <Empty>
                  <p>No accepted suggestions in this window.</p>
                </Empty>
              ) : (
                <table class="data" data-testid="accepted-suggestions">
                  <thead>
                    <tr>
                      <th scope="col">Suggestion</th>
                      <th scope="col">Accepted</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(accepted)
                      .sort((a, b) => b[1] - a[1])
                      .map(([label, n]) => (
                        <tr key={label}>
                          <th scope="row">{label}</th>
                          <td class="num">{n}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              )}
              <h3>Versions seen in the ledger</h3>
              {versions.length === 0 ? (
                <Empty>
                  <p>No version of this rule raised a card in this window.</p>
                </Empty>
              ) : (
                <table class="data" data-testid="versions">
                  <thead>
                    <tr>
                      <th scope="col">Version</th>
                      <th scope="col" class="num">Shown</th>
                      <th scope="col" class="num">Accepted</th>
                      <th scope="col" class="num">Overridden</th>
                      <th scope="col" class="num">No feedback</th>
                      <th scope="col" class="num">Override rate</th>
                      <th scope="col" class="num">Silent firings</th>
                    </tr>
                  </thead>
                  <tbody>
                    {versions.map((v) => (
                      <tr key={v.version} data-version={v.version}>
                        <th scope="row">
                          {v.version}
                          {rule?.version === v.version && <span class="sub"> (loaded)</span>}
                        </th>
                        <td class="num" data-col="shown">{count(v.shown)}</td>
                        <td class="num" data-col="accepted">{count(v.accepted)}</td>
                        <td class="num" data-col="overridden">{count(v.overridden)}</td>
                        <td class="num">{count(v.noFeedback)}</td>
                        <td class="num" data-col="overrideRate">{percent(v.overrideRate)}</td>
                        <td class="num">{count(v.silentFirings ?? 0)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          );
        }}
      </Await>

      {rule && (
        <>
          <h3>What the rule says</h3>
          {rule.description && <p class="description">{rule.description}</p>}
          <h4>Fires when</h4>
          <div class="conditions" data-testid="rule-conditions">
            <ConditionTree rule={rule} condition={rule.conditions} ruleset={props.ruleset} />
          </div>
          <h4>Card it raises</h4>
          <dl class="card-template">
            <dt>Indicator</dt>
            <dd>{typeof rule.card.indicator === 'string' ? rule.card.indicator : JSON.stringify(rule.card.indicator)}</dd>
            <dt>Summary</dt>
            <dd>
              <code>{rule.card.summary}</code>
            </dd>
            {rule.card.detail && (
              <>
                <dt>Detail</dt>
                <dd>
                  <pre class="template">{rule.card.detail}</pre>
                </dd>
              </>
            )}
          </dl>
          <details>
            <summary>The whole card template (JSON)</summary>
            <pre class="template">{JSON.stringify(rule.card, null, 2)}</pre>
          </details>
          <h4>Sources</h4>
          <ul>
            {(rule.references ?? []).map((r) => (
              <li key={r.label}>{r.url ? <a href={r.url} target="_blank" rel="noopener noreferrer">{r.label}</a> : r.label}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function sum(maps: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}
