import type { DiscoveryService } from './response-schema.js';
import type { Ruleset } from '../rules/ruleset.js';
import { HOOK_MODULES } from './hooks/registry.js';
import { hookRequirements } from './handle-hook.js';

/** Discovery entries, one per hook module; prefetch templates come from what each hook needs with the loaded ruleset. */
export function discoveryServices(ruleset: Ruleset): DiscoveryService[] {
  return HOOK_MODULES.map((m) => {
    const prefetch = Object.fromEntries(hookRequirements(m, ruleset).map((r) => [r.key, r.template]));
    return {
      id: m.service.id,
      hook: m.hook,
      title: m.service.title,
      description: m.service.description,
      ...(Object.keys(prefetch).length > 0 && { prefetch }),
    };
  });
}
