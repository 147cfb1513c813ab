import type { Ruleset } from './ruleset.js';

// Initial version: an empty ruleset. The rules-as-data issue (#4) replaces this with the loader.
export async function loadRuleset(_dir: string): Promise<Ruleset> {
  return {
    version: 'empty',
    loadedAt: new Date().toISOString(),
    counts: { active: 0, silent: 0, retired: 0 },
    requirements: () => [],
    evaluate: async () => ({ cards: [], fired: [] }),
  };
}
