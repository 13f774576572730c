// Shared helpers of the node --test suites: the built Node package and the corpus fixtures.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export const wasmDir = fileURLToPath(new URL('..', import.meta.url));
export const repoRoot = join(wasmDir, '..', '..');
export const corpusDir = join(repoRoot, 'tests', 'corpus');

/** The package built by build.sh for Node (`pkg/node`, CommonJS). */
export const lexguard = require(join(wasmDir, 'pkg', 'node', 'lexguard_wasm.js'));

/** The fixture lists of the shared corpus, `{ "gambling.txt": text, "categories.toml": text, … }`. */
export function fixtureLists() {
  const dir = join(corpusDir, 'lists');
  const lists = {};
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.txt') || name === 'categories.toml') {
      lists[name] = readFileSync(join(dir, name), 'utf8');
    }
  }
  return lists;
}
