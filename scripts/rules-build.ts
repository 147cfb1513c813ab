import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { jsonSchemaFiles } from '../src/rules/json-schemas.js';
import { renderClinicalRules } from './gen-clinical-rules.js';
import { renderExamples } from './build-examples.js';
import { renderTestPatients } from './gen-test-patients.js';
import { renderReferences } from './gen-references.js';
import { bundleRules, CONFIGMAP_FILE, DEPLOYMENT_FILE, renderConfigMap, renderDeployment } from '../deploy/rules-configmap.js';

/**
 * `npm run rules:build`: regenerates every file derived from rules/ and the code, in one command —
 * rules/schema/ (editor schemas), docs/clinical-rules.md, docs/references.md's "where used" column, docs/test-patients.md, examples/ and the Kubernetes rules ConfigMap
 * (with the Deployment's hash). `-- --check` writes nothing and lists what is stale (exit 1); `npm test`
 * runs the same check (test/content/derived-files.test.ts).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Each derived part, in the order they are written (the ConfigMap bundles rules/schema/, so it comes after). */
const PARTS: readonly { name: string; render(): Promise<Map<string, string>> | Map<string, string> }[] = [
  { name: 'rules/schema/', render: () => new Map([...jsonSchemaFiles()].map(([file, text]) => [`rules/schema/${file}`, text])) },
  { name: 'docs/clinical-rules.md', render: () => new Map([['docs/clinical-rules.md', renderClinicalRules()]]) },
  { name: 'docs/references.md (where each source is used)', render: () => new Map([['docs/references.md', renderReferences()]]) },
  { name: 'docs/test-patients.md', render: () => new Map([['docs/test-patients.md', renderTestPatients(join(ROOT, 'rules'))]]) },
  { name: 'examples/', render: async () => new Map([...(await renderExamples())].map(([file, text]) => [`examples/${file}`, text])) },
  {
    name: 'Kubernetes rules ConfigMap',
    render: () => {
      const bundle = bundleRules();
      return new Map([
        [relative(ROOT, CONFIGMAP_FILE), renderConfigMap(bundle)],
        [relative(ROOT, DEPLOYMENT_FILE), renderDeployment(readFileSync(DEPLOYMENT_FILE, 'utf8'), bundle)],
      ]);
    },
  },
];

const current = (file: string, text: string) => existsSync(join(ROOT, file)) && readFileSync(join(ROOT, file), 'utf8') === text;

/** The derived files (relative to the repository) whose committed text differs from a fresh rendering. */
export async function staleDerivedFiles(): Promise<string[]> {
  const stale: string[] = [];
  for (const part of PARTS) for (const [file, text] of await part.render()) if (!current(file, text)) stale.push(file);
  return stale;
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--check')) {
    const stale = await staleDerivedFiles();
    for (const file of stale) console.error(`${file} is stale: run \`npm run rules:build\` and commit the result`);
    if (stale.length === 0) console.log('every derived file is current');
    return stale.length === 0 ? 0 : 1;
  }
  for (const part of PARTS) {
    let written = 0;
    for (const [file, text] of await part.render()) {
      if (current(file, text)) continue;
      await mkdir(dirname(join(ROOT, file)), { recursive: true });
      await writeFile(join(ROOT, file), text);
      written += 1;
    }
    console.log(`${part.name}: ${written === 0 ? 'current' : `${written} file${written === 1 ? '' : 's'} written`}`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
