import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { findCycles, importGraph } from '../../scripts/check-cycles.js';

/**
 * `npm run lint` keeps src/ layered (README "Architecture"): ESLint refuses an import against the
 * direction, and the cycle check refuses an import cycle. Both are shown failing here.
 */

const eslint = new ESLint();
const restricted = async (filePath: string, code: string) => {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

describe('import direction (eslint no-restricted-imports)', () => {
  it.each([
    ['src/facts/wrong-way.ts', "import { createApp } from '../http/app.js';"],
    ['src/shared/wrong-way.ts', "import { FACTS } from '../facts/index.js';"],
    ['src/patient-data/wrong-way.ts', "import { loadRuleset } from '../rules/load.js';"],
    ['src/rules/wrong-way.ts', "import { resolvePatientData } from '../patient-data/resolve.js';"],
    ['src/cards/wrong-way.ts', "import type { Ruleset } from '../rules/ruleset.js';"],
    ['src/cds/hooks/wrong-way.ts', "import { createApp } from '../../http/app.js';"],
  ])('refuses %s importing upwards or sideways', async (file, line) => {
    expect(await restricted(file, `${line}\nexport const x = 1;\n`)).toEqual([expect.stringContaining('imports run one way')]);
  });

  it('accepts imports along the direction', async () => {
    expect(await restricted('src/http/right-way.ts', "import { runHook } from '../cds/handle-hook.js';\nexport const x = runHook;\n")).toEqual([]);
    expect(await restricted('src/cds/hooks/right-way.ts', "import type { Hook } from '../../shared/hooks.js';\nexport type X = Hook;\n")).toEqual([]);
  });
});

describe('the console imports only src/shared of the service', () => {
  it('refuses another layer, even for a type', async () => {
    expect(await restricted('console/src/pages/wrong-way.tsx', "import type { Ruleset } from '../../../src/rules/ruleset';\nexport type X = Ruleset;\n")).toEqual([
      expect.stringContaining('console/src may import only src/shared'),
    ]);
    expect(await restricted('console/src/wrong-way.ts', "import { createApp } from '../../src/http/app';\nexport const x = createApp;\n")).toEqual([
      expect.stringContaining('console/src may import only src/shared'),
    ]);
  });

  it('accepts the shared API types', async () => {
    expect(await restricted('console/src/right-way.ts', "import type { RuleAnalytics } from '../../src/shared/operator-api';\nexport type X = RuleAnalytics;\n")).toEqual([]);
  });
});

describe('import cycles (scripts/check-cycles.ts)', () => {
  it('src/ has none', () => {
    expect(findCycles(importGraph(path.resolve('src')))).toEqual([]);
  });

  it('finds one through a type import across folders', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cycles-'));
    try {
      await mkdir(path.join(dir, 'a'));
      await writeFile(path.join(dir, 'a/a.ts'), "import { b } from './b.js';\nexport const a = 1 + b;\n");
      await writeFile(path.join(dir, 'a/b.ts'), "import type { X } from '../c.js';\nexport const b = 2 as X;\n");
      await writeFile(path.join(dir, 'c.ts'), "import { a } from './a/a.js';\nexport type X = typeof a;\n");
      await writeFile(path.join(dir, 'd.ts'), "import { a } from './a/a.js';\nexport const d = a;\n");
      const cycles = findCycles(importGraph(dir)).map((c) => c.map((f) => path.relative(dir, f)).sort());
      expect(cycles).toEqual([['a/a.ts', 'a/b.ts', 'c.ts']]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
