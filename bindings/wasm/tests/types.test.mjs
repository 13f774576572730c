// The TypeScript declarations of both packages: tests/types/usage.ts must type-check with
// `tsc --strict` (including `@ts-expect-error` lines proving the report types are not `any`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { wasmDir } from './helpers.mjs';

test('the .d.ts files type-check a typical use under --strict', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(wasmDir, 'tests', 'types', 'tsconfig.json')], { encoding: 'utf8' });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});
