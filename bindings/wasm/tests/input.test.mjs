// Bad and extreme input: non-string arguments, lone surrogates, very large strings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lexguard } from './helpers.mjs';

const { Filter } = lexguard;
const filter = new Filter({ defaultLists: false, lists: { gambling: '赌博\n网络赌场\n', spam: 'viagra\n' } });

describe('non-string arguments', () => {
  const bad = [
    [42, 'number'],
    [undefined, 'undefined'],
    [null, 'null'],
    [{}, 'object'],
    [['赌博'], 'array'],
    [true, 'boolean'],
    [Symbol('赌博'), 'symbol'],
    [10n, 'bigint'],
    [new String('赌博'), 'object'],
  ];
  for (const method of ['check', 'isClean', 'verdict', 'mask', 'normalize']) {
    test(`${method}() throws a TypeError naming the type`, () => {
      for (const [value, type] of bad) {
        assert.throws(
          () => filter[method](value),
          (e) => e instanceof TypeError && e.kind === 'argument' &&
            e.message.endsWith(`: text must be a string, got ${type}`) && e.message.startsWith(`${method}(text`),
          `${method}(${type})`,
        );
      }
      assert.throws(() => filter[method](), /text must be a string, got undefined/);
    });
  }

  test('mask() checks its mask argument', () => {
    assert.throws(() => filter.mask('赌博', 5), (e) => e instanceof TypeError && /mask must be a string, got number/.test(e.message));
    assert.throws(() => filter.mask('赌博', 'ab'), /mask must be exactly one character, got "ab"/);
    assert.throws(() => filter.mask('赌博', ''), /mask must be exactly one character/);
    assert.equal(filter.mask('赌博', null), '**');
  });

  test('the filter keeps working after errors', () => {
    assert.throws(() => filter.check(1));
    assert.equal(filter.check('赌博').verdict, 'block');
  });
});

describe('lone surrogates', () => {
  // A JS string may hold unpaired surrogates. wasm-bindgen passes strings as UTF-8, turning
  // each into U+FFFD: one UTF-16 unit and one character, like the surrogate, so the UTF-16
  // and char spans stay exact in the original string.
  const texts = [
    '\uD800网络赌场',
    '网络赌场\uDC00',
    '\uDFFF\uD800赌博\uD83D',
    'a\uD800b 赌\uDC00博 \uD83D\uDE00赌博', // a lone surrogate as noise inside a hit, then a real pair
  ];

  test('UTF-16 offsets index the original string', () => {
    for (const text of texts) {
      const report = filter.check(text);
      assert.ok(report.hits.length > 0, text);
      for (const h of report.hits) {
        assert.deepEqual([h.start, h.end], h.span.utf16);
        assert.equal(text.slice(h.start, h.end), h.matched, JSON.stringify(text));
        assert.match(text.slice(h.start, h.end), /^(网络赌场|赌.*博)$/su);
      }
    }
    const r = filter.check('\uD800\uD800 网络赌场');
    assert.deepEqual([r.hits[0].start, r.hits[0].end], [3, 7]);
    assert.deepEqual(r.hits[0].span.chars, [3, 7]);
    assert.deepEqual(r.hits[0].span.bytes, [7, 19], 'bytes count each lone surrogate as U+FFFD (3 bytes)');
  });

  test('a lone surrogate inside a hit is kept in matched', () => {
    const text = '赌\uDC00博';
    const [hit] = filter.check(text).hits;
    assert.equal(hit.matched, text);
    assert.deepEqual([hit.start, hit.end], [0, 3]);
  });

  test('mask keeps lone surrogates outside the hits', () => {
    assert.equal(filter.mask('\uD800网络赌场\uDC00'), '\uD800****\uDC00');
    assert.equal(filter.mask('a\uD800b 赌\uDC00博 \uD83D\uDE00赌博'), 'a\uD800b *** \uD83D\uDE00**');
    assert.equal(filter.mask('\uD800 clean'), '\uD800 clean');
  });

  test('a real U+FFFD stays U+FFFD', () => {
    assert.equal(filter.check('赌\uFFFD博').hits[0].matched, '赌\uFFFD博');
    assert.equal(filter.mask('\uFFFD网络赌场\uFFFD'), '\uFFFD****\uFFFD');
    assert.equal(filter.mask('\uFFFD\uD800网络赌场'), '\uFFFD\uD800****');
  });

  test('checkFields re-slices matched per field', () => {
    const report = filter.checkFields({ title: '\uD800赌\uDC00博', body: '网络赌场' });
    assert.deepEqual(report.hits.map((h) => h.matched), ['赌\uDC00博', '网络赌场']);
  });
});

describe('very large strings', () => {
  test('a 20 MB text with hits at known places', () => {
    const para = '今天的新闻报道了城市交通、天气变化和体育比赛的最新进展。😀 Sports and weather news.\n';
    const n = Math.ceil(20e6 / Buffer.byteLength(para));
    const parts = new Array(n).fill(para);
    const marks = [Math.floor(n / 3), Math.floor((2 * n) / 3), n - 1];
    for (const i of marks) parts[i] = para + '網上賭❤博' + para;
    const text = parts.join('');
    assert.ok(Buffer.byteLength(text) > 20e6);

    const t0 = performance.now();
    const report = filter.check(text);
    const ms = performance.now() - t0;
    assert.equal(report.hits.length, marks.length);
    for (const h of report.hits) {
      assert.equal(text.slice(h.start, h.end), '賭❤博');
      assert.equal(h.matched, '賭❤博');
    }
    assert.ok(ms < 20000, `check took ${ms} ms`);

    const masked = filter.mask(text);
    assert.equal(masked.length, text.length);
    assert.equal(masked.indexOf('賭❤博'), -1);
    assert.equal(filter.isClean(text), false);
    // The filter keeps working on small texts afterwards.
    assert.equal(filter.check('赌博').hits.length, 1);
  });
});
