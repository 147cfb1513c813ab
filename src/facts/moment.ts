import { noParams, type NoParams } from './params.js';
import type { FactDefinition } from './types.js';
import { MOMENTS, type Moment } from '../shared/hooks.js';
import { oneOf } from './value-shape.js';

/**
 * The moment of care of the call, from its hook: `order-entry` (order-select, order-sign),
 * `chart-review` (patient-view) or `discharge` (encounter-discharge). Rules that speak only when the chart is opened, not while orders
 * are entered, compare it: `{ "fact": "moment", "operator": "notEqual", "value": "order-entry" }`.
 */
export const moment = {
  params: noParams,
  refs: () => [],
  requirements: () => [],
  value: oneOf('moments of care', MOMENTS),
  compute: (_p, ctx): Moment => ctx.data.moment,
} satisfies FactDefinition<NoParams>;
