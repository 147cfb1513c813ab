import { z } from 'zod';
import { contextFields, REFERENCE, type HookContext, type HookModule } from './hook.js';

/** order-select (CDS Hooks hook library): the clinician has selected orders, not yet signed. */
export const orderSelect: HookModule = {
  hook: 'order-select',
  service: {
    id: 'inotrope-order-select',
    title: 'IV inotrope order checks (order-select)',
    description:
      'Advisory checks when dobutamine or milrinone is selected for ordering: eligibility, contraindications, precautions, dosing, alcohol, IV-line co-administration, duplicate therapy, monitoring and data quality.',
  },
  context: z
    .looseObject({
      ...contextFields,
      selections: z.array(z.string().regex(REFERENCE, 'must be "ResourceType/id"')).min(1),
    })
    .superRefine((ctx, issues) => {
      const present = new Set(
        (ctx.draftOrders.entry ?? []).flatMap((e) => (e.resource ? [`${e.resource.resourceType}/${String(e.resource.id)}`] : [])),
      );
      ctx.selections.forEach((sel, i) => {
        if (!present.has(sel)) {
          issues.addIssue({ code: 'custom', path: ['selections', i], message: `selection ${sel} is not in draftOrders` });
        }
      });
    }) satisfies z.ZodType<HookContext>,
  moment: 'order-entry',
  subjects: 'selected-drafts',
  requirements: [],
};
