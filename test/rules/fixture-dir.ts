import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rule files are edited as untyped JSON
type Json = any;

export const FIXTURE_RULES = path.resolve('test/fixtures/rules');

/** A private copy of the fixture ruleset that a test may edit. */
export async function copyFixture(): Promise<{ dir: string; edit: (file: string, change: (json: Json) => void) => Promise<void>; write: (file: string, text: string) => Promise<void>; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'inotrope-rules-'));
  await cp(FIXTURE_RULES, dir, { recursive: true });
  return {
    dir,
    async edit(file, change) {
      const json = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
      change(json);
      await writeFile(path.join(dir, file), JSON.stringify(json, null, 2));
    },
    write: (file, text) => writeFile(path.join(dir, file), text),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
