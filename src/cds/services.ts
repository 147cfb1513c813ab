import type { Hook } from '../shared/hooks.js';
import type { DiscoveryService } from './response-schema.js';
import type { Ruleset } from '../rules/ruleset.js';

/** Our three CDS services, one per hook. Their ids are an interface EHRs configure: keep them stable. */
export interface ServiceDefinition {
  readonly id: string;
  readonly hook: Hook;
  readonly title: string;
  readonly description: string;
}

export const SERVICES: readonly ServiceDefinition[] = [
  {
    id: 'inotrope-order-select',
    hook: 'order-select',
    title: 'IV inotrope order checks (order-select)',
    description:
      'Advisory checks when dobutamine or milrinone is selected for ordering: eligibility, contraindications, dosing, alcohol, IV-line co-administration, duplicate therapy, monitoring and data quality.',
  },
  {
    id: 'inotrope-order-sign',
    hook: 'order-sign',
    title: 'IV inotrope order checks (order-sign)',
    description:
      'Advisory checks before an IV inotrope order (dobutamine, milrinone) or an IV drug given alongside one is signed: eligibility, contraindications, dosing, IV-line compatibility, duplicate therapy, monitoring and data quality.',
  },
  {
    id: 'inotrope-patient-view',
    hook: 'patient-view',
    title: 'IV inotrope therapy review (patient-view)',
    description:
      'For patients on an active IV inotrope: infusion duration, monitoring (heart rate, fever, electrolytes, telemetry), IV-line and data-quality checks.',
  },
];

export function findService(id: string): ServiceDefinition | undefined {
  return SERVICES.find((s) => s.id === id);
}

/** Discovery entries; prefetch templates come from what the loaded ruleset needs for each hook. */
export function discoveryServices(ruleset: Ruleset): DiscoveryService[] {
  return SERVICES.map((s) => {
    const prefetch = Object.fromEntries(ruleset.requirements(s.hook).map((r) => [r.key, r.template]));
    return {
      id: s.id,
      hook: s.hook,
      title: s.title,
      description: s.description,
      ...(Object.keys(prefetch).length > 0 && { prefetch }),
    };
  });
}
