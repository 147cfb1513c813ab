/**
 * The CDS hooks this service answers, by the names rule files and scenarios use. Each has one module
 * in src/cds/hooks/ (listed in src/cds/hooks/registry.ts) holding its service, context schema, the
 * moment of care it is called at and which orders its rules evaluate.
 */
export const HOOKS = ['order-select', 'order-sign', 'patient-view', 'encounter-discharge'] as const;
export type Hook = (typeof HOOKS)[number];

/**
 * The moment of care a hook is called at: while orders are being entered (order-select, order-sign),
 * when a clinician opens the chart (patient-view) or discharges the patient from the encounter
 * (encounter-discharge). Rules read it through the `moment` fact.
 */
export const MOMENTS = ['order-entry', 'chart-review', 'discharge'] as const;
export type Moment = (typeof MOMENTS)[number];

/**
 * Which medication orders a hook's order-scoped rules evaluate: the draft orders the clinician
 * selected (order-select), every draft order (order-sign), or the patient's active orders (patient-view,
 * encounter-discharge).
 */
export type OrderSubjects = 'selected-drafts' | 'all-drafts' | 'active';
