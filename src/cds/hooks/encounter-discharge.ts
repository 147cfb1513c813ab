import { z } from 'zod';
import { ENCOUNTER_REQUIREMENT } from '../../facts/requirements.js';
import { contextFields, type HookContext, type HookModule } from './hook.js';

/**
 * encounter-discharge (CDS Hooks Library): the clinician is discharging the patient from an encounter
 * (typically inpatient). The encounter being ended is required context and is prefetched; the rules
 * evaluate the patient's active orders, i.e. what the patient leaves with.
 */
export const encounterDischarge: HookModule = {
  hook: 'encounter-discharge',
  service: {
    id: 'inotrope-encounter-discharge',
    title: 'Discharge on a home IV inotrope (encounter-discharge)',
    description:
      'For patients discharged with a running IV inotrope (dobutamine, milrinone): one checklist of what is documented and what is missing for home inotrope therapy (goal of therapy, home-infusion referral, central line, pump programme, home labs, teaching).',
  },
  context: z.looseObject({
    // The Hook Library expects a clinician here (Practitioner or PractitionerRole).
    userId: z.string().regex(/^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/, 'must be "Practitioner/id" or "PractitionerRole/id"'),
    patientId: contextFields.patientId,
    encounterId: contextFields.encounterId.unwrap(),
  }) satisfies z.ZodType<HookContext>,
  moment: 'discharge',
  subjects: 'active',
  requirements: [ENCOUNTER_REQUIREMENT],
};
