import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('README stays true to the code', () => {
  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const script of named) expect(pkg.scripts, `npm run ${script}`).toHaveProperty([script]);
    expect(pkg.scripts).toHaveProperty(['start']);
    expect(pkg.scripts).toHaveProperty(['test']);
  });

  it('documents exactly the configuration variables the service reads', () => {
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!).sort();
    expect(documented).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('points at example files that exist, dated as of now by examples:build before the first curl that sends one', () => {
    const sent = [...readme.matchAll(/@examples\/now\/([\w.-]+\.json)/g)];
    expect(sent.length).toBeGreaterThan(0);
    // examples/now/ holds the committed examples rebuilt at the current time, file for file.
    for (const m of sent) expect(() => readFileSync(path.join(ROOT, 'examples', m[1]!)), m[1]).not.toThrow();
    expect(readme.indexOf('npm run examples:build -- --now')).toBeGreaterThan(-1);
    expect(readme.indexOf('npm run examples:build -- --now')).toBeLessThan(sent[0]!.index);
  });
});
