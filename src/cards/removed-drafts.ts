import { ruleOf, type Card } from '../shared/card.js';

/**
 * No contradictory cards: a card that prepares the start of an inotrope being ordered (`card.preparesDraft` in the
 * rule file: baseline labs, telemetry, the dose unit to re-enter) is left out when a critical card of the same
 * response removes that draft (a `delete` suggestion for it). An order-scoped card is about its subject order; a
 * patient-scoped one about every inotrope order of the call (`inotropeOrders`, `MedicationRequest/<id>`), so it stays
 * while one of them is not being removed — another draft, or a running infusion it still applies to.
 */
export function withoutPreparationsForRemovedDrafts(cards: readonly Card[], preparing: ReadonlySet<Card>, inotropeOrders: readonly string[]): Card[] {
  const removed = new Set(
    cards
      .filter((c) => c.indicator === 'critical')
      .flatMap((c) => c.suggestions ?? [])
      .flatMap((s) => s.actions ?? [])
      .flatMap((a) => (a.type === 'delete' && a.resourceId !== undefined ? [a.resourceId] : [])),
  );
  if (removed.size === 0) return [...cards];
  const everyOrderRemoved = inotropeOrders.length > 0 && inotropeOrders.every((r) => removed.has(r));
  return cards.filter((card) => {
    if (!preparing.has(card)) return true;
    const subject = ruleOf(card)?.subject;
    return subject === undefined ? !everyOrderRemoved : !removed.has(subject);
  });
}
