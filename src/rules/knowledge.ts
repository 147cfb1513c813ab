import type { Knowledge, LookupTable, Settings, Threshold } from '../facts/types.js';
import { expandValueSets, type ValueSetSource } from './expand-value-sets.js';
import type { SettingsFile, ThresholdsFile } from './file-schemas.js';
import { didYouMean, type LoadError } from './load-error.js';
import { jsonPointer as pointer } from '../shared/syntax.js';

/** Parsed knowledge files, each with the path it came from. */
export interface KnowledgeFiles {
  settings?: { file: string; content: SettingsFile };
  /** One file per set, named by its file name. */
  valueSets: ValueSetSource[];
  thresholds: { file: string; content: ThresholdsFile }[];
}

/**
 * Builds the knowledge base (value sets, thresholds, tables, settings) facts consult, reporting names
 * defined twice, settings that name no value set, tables that are not ascending, and the value-set
 * mistakes expandValueSets finds.
 */
export function buildKnowledge(files: KnowledgeFiles, broken: Set<string>, errors: LoadError[]): Knowledge | undefined {
  const valueSets = expandValueSets(files.valueSets, broken, errors);
  const thresholds = new Map<string, Threshold>();
  const tables = new Map<string, LookupTable>();
  const seen = new Map<string, string>();
  const define = (kind: string, name: string, file: string, at: PropertyKey[]): boolean => {
    const key = `${kind} ${name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({ file, pointer: pointer(at), message: `${kind} "${name}" is already defined in ${first}` });
      return false;
    }
    seen.set(key, file);
    return true;
  };

  for (const { file, content } of files.thresholds) {
    for (const [name, t] of Object.entries(content.thresholds ?? {})) {
      if (define('threshold', name, file, ['thresholds', name])) thresholds.set(name, { name, ...t });
    }
    for (const [name, t] of Object.entries(content.tables ?? {})) {
      if (!define('table', name, file, ['tables', name])) continue;
      const descending = t.rows.findIndex((row, i) => i > 0 && row[0] <= t.rows[i - 1]![0]);
      if (descending !== -1) {
        errors.push({ file, pointer: pointer(['tables', name, 'rows', descending]), message: 'rows must be in ascending order of their input (first number)' });
        continue;
      }
      tables.set(name, { name, ...t });
    }
  }

  if (!files.settings) {
    errors.push({ file: 'settings.json', pointer: '', message: 'settings.json is missing: it names the inotrope value sets, IV routes, weight and card source' });
    return undefined;
  }
  const { file, content } = files.settings;
  const { $schema: _schema, ...settings } = content;
  const named: [string, PropertyKey[]][] = [
    ...settings.inotropes.map((n, i): [string, PropertyKey[]] => [n, ['inotropes', i]]),
    [settings.ivRoute, ['ivRoute']],
    [settings.ivProducts, ['ivProducts']],
    ...(settings.homeOrderCategories !== undefined ? [[settings.homeOrderCategories, ['homeOrderCategories']] as [string, PropertyKey[]]] : []),
    [settings.weight.valueSet, ['weight', 'valueSet']],
    ...settings.lineCompatibility.flatMap((pair, i): [string, PropertyKey[]][] => [
      [pair.inotrope, ['lineCompatibility', i, 'inotrope']],
      ...pair.with.map((n, j): [string, PropertyKey[]] => [n, ['lineCompatibility', i, 'with', j]]),
    ]),
  ];
  for (const [name, at] of named) {
    if (!valueSets.has(name) && !broken.has(`valueSet:${name}`)) {
      errors.push({ file, pointer: pointer(at), message: `unknown value set "${name}"${didYouMean(name, valueSets.keys())}` });
      broken.add(`valueSet:${name}`); // reported here: not again for each rule whose fact reads the setting
    }
  }
  settings.lineCompatibility.forEach((pair, i) => {
    if (!settings.inotropes.includes(pair.inotrope)) {
      errors.push({ file, pointer: pointer(['lineCompatibility', i, 'inotrope']), message: `"${pair.inotrope}" is not one of the inotropes (${settings.inotropes.join(', ')})` });
    }
  });
  return { valueSets, thresholds, tables, settings: settings as Settings };
}
