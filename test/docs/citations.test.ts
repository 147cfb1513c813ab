import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The repository stands alone: what src/, docs/, rules/ and test/ cite is in the repository or a public
 * source, and docs/references.md says truly where each clinical source is used.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|tsx|js|json|md|yaml|yml)$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Files of the team's research notes, which are not in the repository. */
const OUTSIDE_FILE = /clinical\.md|cds-hooks\.md|rules-catalog\.md|\bseeds\/|\brealworld\/|\bterminology\/(README|vsac)|terminology README/;
/** An absolute path on someone's machine (a URL's path is preceded by its host, so it does not match). */
const MACHINE_PATH = /(?<![\w.~:/-])\/(work|home|root|tmp|Users|mnt)\//;
/** Tests that read the shared research data name it by its relative path, and skip where it is absent. */
const SHARED_DATA = /\.\.\/shared\/[\w./-]*/g;

describe('citations', () => {
  const files = ['src', 'docs', 'rules', 'test'].flatMap(filesUnder);

  it('reads the files it checks', () => {
    expect(files).toContain('rules/value-sets/milrinone.json');
    expect(files).toContain('docs/references.md');
  });

  it('cite no file outside the repository and no absolute machine path', () => {
    const found: string[] = [];
    // This file names the outside files it looks for.
    for (const file of files.filter((f) => f !== 'test/docs/citations.test.ts')) {
      const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        const text = file.startsWith('test/') ? line.replace(SHARED_DATA, '') : line;
        if (OUTSIDE_FILE.test(text) || MACHINE_PATH.test(text)) found.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(found).toEqual([]);
  });

  it('the checks find what they look for', () => {
    // Machine paths are built here, so that this file names none itself.
    const machine = (...parts: string[]) => path.posix.join('/', ...parts);
    const bad = ['see clinical.md §4', 'seeds/milrinone.md', 'the terminology README', machine('work', 'shared', 'x'), `at ${machine('home', 'me', 'fixtures')}`, `'${machine('tmp', 'x')}'`];
    for (const text of bad) {
      expect(OUTSIDE_FILE.test(text) || MACHINE_PATH.test(text), text).toBe(true);
    }
    for (const fine of ['https://www.webmd.com/heart-disease/x', 'src/shared/card.ts', "from '../shared/hooks.js'", 'docs/references.md']) {
      expect(OUTSIDE_FILE.test(fine) || MACHINE_PATH.test(fine), fine).toBe(false);
    }
  });
});
