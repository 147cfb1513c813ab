import { z } from 'zod';
import { contextFields, type HookContext, type HookModule } from './hook.js';

/** patient-view (CDS Hooks hook library): the clinician opens the patient's chart. */
export const patientView: HookModule = {
  hook: 'patient-view',
  service: {
    id: 'inotrope-patient-view',
    title: 'IV inotrope therapy review (patient-view)',
    description:
      'For patients on an active IV inotrope: infusion duration, monitoring (heart rate, fever, electrolytes, telemetry), IV-line and data-quality checks.',
  },
  context: z.looseObject({ userId: contextFields.userId, patientId: contextFields.patientId, encounterId: contextFields.encounterId }) satisfies z.ZodType<HookContext>,
  moment: 'chart-review',
  subjects: 'active',
  requirements: [],
};
