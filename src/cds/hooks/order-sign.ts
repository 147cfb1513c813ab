import { z } from 'zod';
import { contextFields, type HookContext, type HookModule } from './hook.js';

/** order-sign (CDS Hooks hook library): the clinician is about to sign the draft orders. */
export const orderSign: HookModule = {
  hook: 'order-sign',
  service: {
    id: 'inotrope-order-sign',
    title: 'IV inotrope order checks (order-sign)',
    description:
      'Advisory checks before an IV inotrope order (dobutamine, milrinone) or an IV drug given alongside one is signed: eligibility, contraindications, precautions, dosing, IV-line compatibility, duplicate therapy, monitoring and data quality.',
  },
  context: z.looseObject(contextFields) satisfies z.ZodType<HookContext>,
  moment: 'order-entry',
  subjects: 'all-drafts',
  requirements: [],
};
