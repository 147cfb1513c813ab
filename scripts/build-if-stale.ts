import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm start`'s prestart: builds only when a build input is newer than the build. Building every time
 * made `npm start` take 22 s to ready; building in `start` itself (`build && node …`) put a shell between
 * npm and node, so a SIGTERM to `npm start` left node running.
 */

/** What the build reads (tsconfig.build.json: src; console/vite.config.ts: console), plus its settings. */
const INPUTS = ['src', 'console', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
/** What the build writes last in each of its two steps (tsc rewrites every output; vite empties dist/console). */
const OUTPUTS = ['dist/src/main.js', 'dist/console/index.html'];

/** Newest modification time under `file` (a directory's own time changes when an entry is added or removed). */
function newest(file: string): number {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(file).reduce((max, entry) => Math.max(max, newest(path.join(file, entry))), stat.mtimeMs);
}

/** Why the build in `root` must be redone, or undefined when it is current. */
export function staleReason(root: string): string | undefined {
  const built = OUTPUTS.map((f) => statSync(path.join(root, f), { throwIfNoEntry: false })?.mtimeMs);
  const missing = OUTPUTS.filter((_, i) => built[i] === undefined);
  if (missing.length > 0) return `${missing.join(', ')} missing`;
  const oldest = Math.min(...(built as number[]));
  const changed = INPUTS.filter((f) => newest(path.join(root, f)) > oldest);
  return changed.length > 0 ? `changed since the last build: ${changed.join(', ')}` : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const reason = staleReason(root);
  if (reason === undefined) {
    console.log('build is current');
  } else {
    console.log(`building (${reason})`);
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  }
}
