// The shared data-driven corpus (tests/corpus/*.toml, see tests/corpus/README.md), run
// against the WASM package: the same cases the Rust and Python suites run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { corpusDir, fixtureLists, lexguard } from './helpers.mjs';

const { Filter } = lexguard;
const LISTS = fixtureLists();

/** Corpus `options` (NormalizeOptions names) -> the binding's `normalize` option. */
function normalizeOptions(options = {}) {
  const out = {};
  for (const [k, v] of Object.entries(options)) {
    out[k === 'max_gap' ? 'maxGap' : k] = typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

const filters = new Map();
function filterFor(kase) {
  const lists = kase.lists ?? 'fixture';
  assert.ok(lists === 'fixture' || lists === 'shipped', `unknown lists ${lists}`);
  const key = JSON.stringify([lists, kase.options ?? {}], (_, v) => (typeof v === 'bigint' ? Number(v) : v));
  if (!filters.has(key)) {
    const options = { normalize: normalizeOptions(kase.options) };
    if (lists === 'fixture') Object.assign(options, { defaultLists: false, lists: LISTS });
    filters.set(key, new Filter(options));
  }
  return filters.get(key);
}

const plain = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x)));

function runCase(kase) {
  const report = filterFor(kase).check(kase.text);
  const ctx = () => `report: ${JSON.stringify(report, null, 1)}`;
  if (kase.verdict !== undefined) {
    assert.equal(report.verdict, kase.verdict, ctx());
    if (kase.verdict === 'pass') assert.equal(report.hits.length, 0, 'a pass must have no hits');
  }
  if (kase.categories !== undefined) assert.deepEqual(report.categories, kase.categories, ctx());
  if (kase.hits !== undefined) {
    assert.equal(report.hits.length, kase.hits.length, `hit count; ${ctx()}`);
    kase.hits.forEach((want, i) => {
      const got = report.hits[i];
      for (const [k, v] of Object.entries(plain(want))) {
        const g = ['chars', 'bytes', 'utf16'].includes(k) ? got.span[k] : got[k];
        assert.deepEqual(g, v, `hit ${i}: ${k}; ${ctx()}`);
      }
    });
  }
  // Binding invariants on every hit of every case.
  for (const h of report.hits) {
    assert.deepEqual([h.start, h.end], h.span.utf16);
    assert.equal(kase.text.slice(h.start, h.end), h.matched);
    assert.equal([...kase.text.slice(h.start, h.end)].length, h.span.chars[1] - h.span.chars[0]);
    assert.equal(Buffer.byteLength(kase.text.slice(0, h.start)), h.span.bytes[0]);
  }
}

for (const file of ['positive', 'negative', 'safe']) {
  const cases = parse(readFileSync(join(corpusDir, `${file}.toml`), 'utf8')).case;
  describe(`corpus ${file}.toml`, () => {
    test('has cases', () => assert.ok(cases.length > 0));
    for (const kase of cases) test(kase.name, () => runCase(kase));
  });
}
