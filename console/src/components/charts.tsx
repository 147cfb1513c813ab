import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * Charts drawn by uPlot (canvas). Each chart comes with the same numbers as a table, for screen
 * readers, for copying, and so a reader can check a point exactly.
 */

export interface Series {
  label: string;
  values: number[];
  color: string;
}

export const COLORS = { shown: '#4b5563', accepted: '#15803d', overridden: '#b91c1c', silent: '#7c3aed' };

function useUplot(build: (width: number) => uPlot.Options, data: uPlot.AlignedData, deps: unknown[]) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(build(el.clientWidth || 600), data, el);
    const observer = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 600, height: plot.height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, deps);
  return box;
}

/** Counts per day or week; `starts` are the buckets' RFC 3339 starts. */
export function TimeChart(props: { title: string; starts: string[]; series: Series[]; bucket: 'day' | 'week' }) {
  const xs = props.starts.map((s) => Date.parse(s) / 1000);
  const box = useUplot(
    (width) => ({
      width,
      height: 260,
      title: props.title,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [
        { label: props.bucket === 'week' ? 'Week of' : 'Day', value: (_u, v) => (v === null ? '—' : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: xs.length < 60 } })),
      ],
      axes: [{ values: (_u, splits) => splits.map((v) => new Date(v * 1000).toISOString().slice(5, 10)) }, { label: 'cards' }],
    }),
    [xs, ...props.series.map((s) => s.values)],
    [JSON.stringify(props)],
  );
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={`${props.title}: line chart; the table below has the same numbers`} />
      <details>
        <summary>Numbers behind this chart</summary>
        <table class="data" data-testid="timeseries-table">
          <caption class="sr-only">{props.title}</caption>
          <thead>
            <tr>
              <th scope="col">{props.bucket === 'week' ? 'Week of' : 'Day'}</th>
              {props.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.starts.map((start, i) => (
              <tr key={start}>
                <th scope="row">{start.slice(0, 10)}</th>
                {props.series.map((s) => (
                  <td key={s.label}>{s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** Vertical bars, one per category (override reasons). */
export function BarChart(props: { title: string; labels: string[]; values: number[]; color: string }) {
  const idx = props.labels.map((_, i) => i);
  const box = useUplot(
    (width) => ({
      width,
      height: 240,
      title: props.title,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, props.labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [{}, { label: 'overrides', fill: props.color, stroke: props.color, paths: uPlot.paths.bars!({ size: [0.6, 80] }), points: { show: false } }],
      axes: [
        { splits: () => idx, values: (_u, splits) => splits.map((i) => props.labels[i] ?? ''), size: 40, gap: 6 },
        { label: 'overrides', splits: (_u, _a, _min, max) => Array.from({ length: Math.min(6, Math.ceil(max) + 1) }, (_, i) => Math.round((i * Math.ceil(max)) / Math.min(5, Math.ceil(max) || 1))) },
      ],
    }),
    [idx, props.values],
    [JSON.stringify(props)],
  );
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={`${props.title}: bar chart; the table below has the same numbers`} />
      <table class="data" data-testid="bar-table">
        <caption class="sr-only">{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">Reason</th>
            <th scope="col">Overrides</th>
          </tr>
        </thead>
        <tbody>
          {props.labels.map((l, i) => (
            <tr key={l}>
              <th scope="row">{l}</th>
              <td>{props.values[i]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** A small trend line in a table cell; the cell's label carries the numbers. */
export function Sparkline(props: { values: number[]; label: string }) {
  const xs = props.values.map((_, i) => i);
  const box = useUplot(
    () => ({
      width: 110,
      height: 28,
      legend: { show: false },
      cursor: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: COLORS.shown, width: 1.5, points: { show: false } }],
    }),
    [xs, props.values],
    [props.values.join(',')],
  );
  return <div class="sparkline" ref={box} role="img" aria-label={props.label} />;
}
