import type { ConditionNode, RuleDocument, RulesetDocument } from '../api';
import { operatorWords } from '../../../src/shared/operator-words';

/** A rule's conditions and card template written out as an informaticist reads them. */


export function valueText(value: unknown, ruleset: RulesetDocument): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if (typeof v.threshold === 'string') {
      const t = ruleset.thresholds.find((x) => x.name === v.threshold);
      return t ? `${t.value}${t.unit ? ` ${t.unit}` : ''} (threshold ${t.name})` : `threshold ${v.threshold}`;
    }
    if (typeof v.table === 'string') return `the value from table ${v.table}`;
    if (typeof v.fact === 'string') return `the fact ${v.fact}${typeof v.path === 'string' ? ` ${v.path}` : ''}`;
  }
  if (Array.isArray(value)) return value.map((x) => JSON.stringify(x)).join(', ');
  return value === undefined ? '' : JSON.stringify(value);
}

function factText(rule: RuleDocument, fact: string, path: string | undefined): string {
  const alias = rule.facts?.[fact];
  const base = alias ? `${fact} (${alias.fact}${alias.params ? ` ${paramsText(alias.params)}` : ''})` : fact;
  return path ? `${base} ${path.replace(/^\$\./, '→ ')}` : base;
}

function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

export function ConditionTree(props: { rule: RuleDocument; condition: ConditionNode; ruleset: RulesetDocument }) {
  const c = props.condition;
  const list = c.all ?? c.any;
  if (list) {
    return (
      <div class="cond-group">
        <span class="cond-op">{c.all ? 'ALL of:' : 'ANY of:'}</span>
        <ul>
          {list.map((child, i) => (
            <li key={i}>
              <ConditionTree rule={props.rule} condition={child} ruleset={props.ruleset} />
            </li>
          ))}
        </ul>
      </div>
    );
  }
  if (c.not) {
    return (
      <div class="cond-group">
        <span class="cond-op">NOT:</span>
        <ul>
          <li>
            <ConditionTree rule={props.rule} condition={c.not} ruleset={props.ruleset} />
          </li>
        </ul>
      </div>
    );
  }
  // A leaf: the rules layer's schema guarantees a fact and an operator on every node that is not a group.
  return (
    <span class="cond-leaf">
      <code>{factText(props.rule, c.fact ?? '', c.path)}</code> <strong>{operatorWords(c.operator ?? '', c.value)}</strong>{' '}
      {c.operator !== 'exists' && <span class="cond-value">{valueText(c.value, props.ruleset)}</span>}
      {c.params && <span class="sub"> ({paramsText(c.params)})</span>}
    </span>
  );
}
