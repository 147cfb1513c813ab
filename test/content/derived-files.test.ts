import { describe, expect, it } from 'vitest';
import { staleDerivedFiles } from '../../scripts/rules-build.js';

describe('files derived from rules/ (schemas, clinical rules doc, examples, Kubernetes ConfigMap)', () => {
  it('are current: when this fails, run `npm run rules:build` and commit the result', async () => {
    expect(await staleDerivedFiles(), 'stale: run `npm run rules:build`').toEqual([]);
  }, 120_000);
});
