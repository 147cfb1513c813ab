import type { Card } from '../api';
import { Markdown } from './markdown';

/**
 * A card as a CDS client shows it (CDS Hooks 2.0 §Card attributes): indicator colour, summary, source,
 * detail (markdown), suggestions, links and the override reasons offered. Buttons are inert here:
 * nothing is ordered from the playground.
 */
export function CardView(props: { card: Card }) {
  const { card } = props;
  const rule = card.extension?.['org.inotrope-cds.rule'] as { id?: string; version?: string } | undefined;
  return (
    <article class={`cds-card indicator-${card.indicator}`} aria-label={`${card.indicator} card: ${card.summary}`} data-rule={rule?.id}>
      <header>
        <span class="indicator-badge">{card.indicator}</span>
        <h4 class="summary">{card.summary}</h4>
      </header>
      <p class="source">
        Source:{' '}
        {card.source.url ? (
          <a href={card.source.url} target="_blank" rel="noopener noreferrer">
            {card.source.label}
          </a>
        ) : (
          card.source.label
        )}
        {card.source.topic?.display && <> · {card.source.topic.display}</>}
        {rule?.id && (
          <>
            {' '}
            · rule <code>{rule.id}</code> {rule.version}
          </>
        )}
      </p>
      {card.detail && <Markdown text={card.detail} class="markdown detail" />}
      {card.suggestions && card.suggestions.length > 0 && (
        <div class="suggestions">
          <h5>Suggestions {card.selectionBehavior === 'any' ? '(choose any)' : '(choose at most one)'}</h5>
          <ul>
            {card.suggestions.map((s) => (
              <li key={s.uuid ?? s.label}>
                <button type="button" class={s.isRecommended ? 'suggestion recommended' : 'suggestion'} aria-disabled="true" title="Not applied in the playground">
                  {s.isRecommended && <span aria-label="recommended">★ </span>}
                  {s.label}
                </button>
                {s.actions?.map((a, i) => (
                  <span key={i} class="action">
                    {a.type}: {a.description}
                  </span>
                ))}
              </li>
            ))}
          </ul>
        </div>
      )}
      {card.links && card.links.length > 0 && (
        <ul class="links">
          {card.links.map((l) => (
            <li key={l.url}>
              <a href={l.url} target="_blank" rel="noopener noreferrer">
                {l.label}
              </a>
            </li>
          ))}
        </ul>
      )}
      {card.overrideReasons && card.overrideReasons.length > 0 && (
        <p class="override-reasons">
          <span>Dismiss with a reason:</span>{' '}
          {card.overrideReasons.map((r) => (
            <span key={r.code} class="chip">
              {r.display ?? r.code}
            </span>
          ))}
        </p>
      )}
    </article>
  );
}
