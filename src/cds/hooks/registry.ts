import type { Hook } from '../../shared/hooks.js';
import type { HookModule } from './hook.js';
import { encounterDischarge } from './encounter-discharge.js';
import { orderSelect } from './order-select.js';
import { orderSign } from './order-sign.js';
import { patientView } from './patient-view.js';

/** Every hook this service answers, one module each; a hook named in src/shared/hooks.ts without a module here does not compile. */
const MODULES = {
  'order-select': orderSelect,
  'order-sign': orderSign,
  'patient-view': patientView,
  'encounter-discharge': encounterDischarge,
} as const satisfies Record<Hook, HookModule>;

export const HOOK_MODULES: readonly HookModule[] = Object.values(MODULES);

export function hookModule(hook: Hook): HookModule {
  return MODULES[hook];
}

/** The hook module whose service has this id. */
export function findService(id: string): HookModule | undefined {
  return HOOK_MODULES.find((m) => m.service.id === id);
}

/** The hook module for a name from outside (a request file, a scenario), if it is one we answer. */
export function findHook(name: unknown): HookModule | undefined {
  return HOOK_MODULES.find((m) => m.hook === name);
}
