import { useEffect, useMemo, useState } from 'preact/hooks';
import { getJson, getText, query, type RuleAnalytics, type RulesetDocument, type Timeseries } from '../api';
import { Sparkline } from '../components/charts';
import { Await, Empty } from '../components/status';
import { pool, useJson } from '../data';
import { count, daysAgo, download, percent, tomorrow } from '../format';
import { href, replaceParams, type Route } from '../router';

/** A rule stands out when at least half of the answered cards were overridden, over enough answers to mean something. */
export const HIGH_OVERRIDE_RATE = 0.5;
export const HIGH_OVERRIDE_MIN_ANSWERS = 3;

type SortKey = 'id' | 'category' | 'mode' | 'shown' | 'overrideRate' | 'acceptedRate' | 'silentFirings';

interface Row {
  id: string;
  version: string;
  title: string;
  category: string;
  indicator: string;
  mode: string;
  shown: number;
  accepted: number;
  overridden: number;
  overrideRate: number | null;
  acceptedRate: number | null;
  silentFirings: number;
  high: boolean;
}

export interface Filters {
  window: string;
  from: string;
  to: string;
  service: string;
  client: string;
}

export function filtersOf(params: URLSearchParams): Filters {
  return {
    window: params.get('window') ?? '30',
    from: params.get('from') ?? daysAgo(30),
    to: params.get('to') ?? tomorrow(),
    service: params.get('service') ?? '',
    client: params.get('client') ?? '',
  };
}

/** `from`/`to` for the API: the preset window ending today (UTC), or the custom dates. */
export function range(f: Filters): { from: string; to: string } {
  return f.window === 'custom' ? { from: f.from, to: f.to } : { from: daysAgo(Number(f.window)), to: tomorrow() };
}

export function Dashboard(props: { route: Route; ruleset: RulesetDocument }) {
  const [filters, setFilters] = useState(() => filtersOf(props.route.params));
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'overrideRate', desc: true });
  const { from, to } = range(filters);
  const analyticsQuery = query({ from, to, service: filters.service, client: filters.client });
  const stats = useJson<{ rules: RuleAnalytics[] }>(`/analytics/rules${analyticsQuery}`);
  const [trends, setTrends] = useState<Map<string, number[]>>(new Map());

  const update = (patch: Partial<Filters>) => {
    const next = { ...filters, ...patch };
    setFilters(next);
    replaceParams({ ...next, ...(next.window !== 'custom' && { from: undefined, to: undefined }) });
  };

  const rows = useMemo(() => (stats.state === 'ok' ? buildRows(stats.data.rules, props.ruleset) : []), [stats, props.ruleset]);
  const ids = useMemo(() => [...new Set(rows.filter((r) => r.shown + r.silentFirings > 0).map((r) => r.id))], [rows]);

  useEffect(() => {
    let live = true;
    const bucket = Number(filters.window) > 60 || filters.window === 'custom' ? 'week' : 'day';
    void pool(ids, 4, (id): Promise<[string, number[]]> =>
      getJson<Timeseries>(`/analytics/rules/${encodeURIComponent(id)}/timeseries${query({ bucket, from, to, service: filters.service, client: filters.client })}`).then(
        (t) => [id, t.points.map((p) => p.shown + p.silentFirings)],
        () => [id, []],
      ),
    ).then((pairs) => live && setTrends(new Map(pairs)));
    return () => {
      live = false;
    };
  }, [ids.join(','), analyticsQuery]);

  const sorted = useMemo(() => sortRows(rows, sort.key, sort.desc), [rows, sort]);

  const exportCsv = async () => {
    const csv = await getText(`/analytics/rules${analyticsQuery}`, 'text/csv');
    download(`rules-${from}-to-${to}.csv`, csv, 'text/csv');
  };

  return (
    <section aria-labelledby="dashboard-title">
      <h2 id="dashboard-title">Rules dashboard</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Window
          <select value={filters.window} onChange={(e) => update({ window: e.currentTarget.value })} name="window">
            <option value="7">Last 7 days</option>
            <option value="30">Last 30 days</option>
            <option value="90">Last 90 days</option>
            <option value="custom">Custom dates</option>
          </select>
        </label>
        {filters.window === 'custom' && (
          <>
            <label>
              From (UTC, inclusive)
              <input type="date" name="from" value={filters.from} onChange={(e) => update({ from: e.currentTarget.value })} />
            </label>
            <label>
              To (UTC, exclusive)
              <input type="date" name="to" value={filters.to} onChange={(e) => update({ to: e.currentTarget.value })} />
            </label>
          </>
        )}
        <label>
          Service
          <select value={filters.service} onChange={(e) => update({ service: e.currentTarget.value })} name="service">
            <option value="">All services</option>
            {props.ruleset.services.map((s) => (
              <option key={s.id} value={s.id}>
                {s.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Client (issuer)
          <input
            type="text"
            name="client"
            placeholder="All clients"
            value={filters.client}
            onChange={(e) => update({ client: e.currentTarget.value.trim() })}
            spellcheck={false}
          />
        </label>
        <button type="button" onClick={() => void exportCsv()} disabled={stats.state !== 'ok'}>
          Export CSV
        </button>
      </form>
      <p class="hint">
        {from} to {to} (UTC, end exclusive). Rules whose override rate is {percent(HIGH_OVERRIDE_RATE)} or more over at least {HIGH_OVERRIDE_MIN_ANSWERS} answered
        cards are marked <span class="badge high">High override</span>.
      </p>
      <Await value={stats} what="rule analytics">
        {() =>
          rows.every((r) => r.shown === 0 && r.silentFirings === 0) ? (
            <Empty>
              <p>
                <strong>No cards in this window.</strong> Cards appear here once EHRs call the services; override and acceptance rates once they send feedback.
                Widen the window, clear the filters, or try a chart in the <a href={href('/playground')}>playground</a>.
              </p>
            </Empty>
          ) : null
        }
      </Await>
      {stats.state === 'ok' && (
        <table class="rules" aria-describedby="dashboard-title">
          <thead>
            <tr>
              <SortHeader label="Rule" k="id" sort={sort} setSort={setSort} />
              <SortHeader label="Category" k="category" sort={sort} setSort={setSort} />
              <th scope="col">Indicator</th>
              <SortHeader label="Mode" k="mode" sort={sort} setSort={setSort} />
              <SortHeader label="Shown" k="shown" sort={sort} setSort={setSort} numeric />
              <SortHeader label="Override rate" k="overrideRate" sort={sort} setSort={setSort} numeric />
              <SortHeader label="Accepted suggestions" k="acceptedRate" sort={sort} setSort={setSort} numeric />
              <SortHeader label="Silent firings" k="silentFirings" sort={sort} setSort={setSort} numeric />
              <th scope="col">Trend</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={`${r.id}@${r.version}`} class={r.high ? 'high-override' : undefined} data-rule={r.id} data-version={r.version}>
                <th scope="row">
                  <a href={href(`/rules/${encodeURIComponent(r.id)}`, { window: filters.window, from: filters.window === 'custom' ? from : undefined, to: filters.window === 'custom' ? to : undefined })}>
                    {r.id}
                  </a>{' '}
                  <span class="version">{r.version}</span>
                  <div class="rule-title">{r.title}</div>
                  {r.high && <span class="badge high">High override</span>}
                </th>
                <td>{r.category}</td>
                <td>
                  <span class={`indicator-dot indicator-${r.indicator}`}>{r.indicator}</span>
                </td>
                <td>
                  <span class={`mode mode-${r.mode}`}>{r.mode}</span>
                </td>
                <td class="num">{count(r.shown)}</td>
                <td class="num" data-col="overrideRate">
                  {percent(r.overrideRate)}
                  {r.overridden + r.accepted > 0 && <div class="sub">{r.overridden} of {r.overridden + r.accepted}</div>}
                </td>
                <td class="num">{percent(r.acceptedRate)}</td>
                <td class="num">{r.mode === 'silent' || r.silentFirings > 0 ? count(r.silentFirings) : '—'}</td>
                <td>
                  {trends.get(r.id)?.length ? (
                    <Sparkline values={trends.get(r.id)!} label={`${r.id} cards per ${Number(filters.window) > 60 || filters.window === 'custom' ? 'week' : 'day'}: ${trends.get(r.id)!.join(', ')}`} />
                  ) : (
                    <span class="sub">no cards</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function SortHeader(props: { label: string; k: SortKey; sort: { key: SortKey; desc: boolean }; setSort: (s: { key: SortKey; desc: boolean }) => void; numeric?: boolean }) {
  const active = props.sort.key === props.k;
  return (
    <th scope="col" aria-sort={active ? (props.sort.desc ? 'descending' : 'ascending') : 'none'} class={props.numeric ? 'num' : undefined}>
      <button type="button" class="sort" onClick={() => props.setSort({ key: props.k, desc: active ? !props.sort.desc : props.numeric === true })}>
        {props.label}
        <span aria-hidden="true">{active ? (props.sort.desc ? ' ▼' : ' ▲') : ' ↕'}</span>
      </button>
    </th>
  );
}

function buildRows(stats: readonly RuleAnalytics[], ruleset: RulesetDocument): Row[] {
  const byId = new Map(ruleset.rules.map((r) => [r.id, r]));
  const rows: Row[] = stats.map((s) => {
    const rule = byId.get(s.id);
    const answered = s.accepted + s.overridden;
    const overrideRate = s.overrideRate ?? (answered > 0 ? s.overridden / answered : null);
    return {
      id: s.id,
      version: s.version,
      title: rule?.title ?? 'not in the loaded ruleset',
      category: s.category,
      indicator: indicatorOf(rule),
      mode: rule ? (rule.version === s.version ? rule.status : `${rule.status} (now ${rule.version})`) : 'removed',
      shown: s.shown,
      accepted: s.accepted,
      overridden: s.overridden,
      overrideRate,
      acceptedRate: s.shown > 0 ? s.accepted / s.shown : null,
      silentFirings: s.silentFirings ?? 0,
      high: overrideRate !== null && overrideRate >= HIGH_OVERRIDE_RATE && answered >= HIGH_OVERRIDE_MIN_ANSWERS,
    };
  });
  // Every rule of the ruleset is listed, also those that raised nothing in the window.
  const seen = new Set(stats.map((s) => s.id));
  for (const rule of ruleset.rules) {
    if (seen.has(rule.id)) continue;
    rows.push({
      id: rule.id,
      version: rule.version,
      title: rule.title,
      category: rule.category,
      indicator: indicatorOf(rule),
      mode: rule.status,
      shown: 0,
      accepted: 0,
      overridden: 0,
      overrideRate: null,
      acceptedRate: null,
      silentFirings: 0,
      high: false,
    });
  }
  return rows;
}

function indicatorOf(rule: RulesetDocument['rules'][number] | undefined): string {
  const indicator = rule?.card.indicator;
  if (typeof indicator === 'string') return indicator;
  if (indicator && typeof indicator === 'object') return 'varies';
  return '—';
}

function sortRows(rows: Row[], key: SortKey, desc: boolean): Row[] {
  const value = (r: Row): number | string => {
    const v = r[key];
    return v === null ? -1 : v;
  };
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return (desc ? -c : c) || a.id.localeCompare(b.id) || a.version.localeCompare(b.version);
  });
}
