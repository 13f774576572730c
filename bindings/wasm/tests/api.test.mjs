// The JS API of lexguard-wasm: options, report shape, mask, isClean, errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lexguard, repoRoot } from './helpers.mjs';

const { Filter, version } = lexguard;

const gambling = () => new Filter({ defaultLists: false, lists: { gambling: '赌博\n网络赌场\n', spam: 'viagra\n' } });

describe('report shape', () => {
  test('is a plain object in the DESIGN §5 shape, with start/end', () => {
    const report = gambling().check('網上賭 博');
    assert.equal(Object.getPrototypeOf(report), Object.prototype);
    assert.ok(Array.isArray(report.hits) && Array.isArray(report.categories));
    assert.equal(Object.getPrototypeOf(report.hits[0]), Object.prototype);
    assert.deepEqual(report, {
      verdict: 'block',
      categories: ['gambling'],
      hits: [{
        category: 'gambling',
        term: '赌博',
        action: 'block',
        rule: 'inline:gambling.txt:1',
        matched: '賭 博',
        flags: ['traditional', 'separator'],
        span: { bytes: [6, 13], chars: [2, 5], utf16: [2, 5] },
        start: 2,
        end: 5,
      }],
    });
    // Survives structuredClone / postMessage and JSON.
    assert.deepEqual(structuredClone(report), report);
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  test('a clean text gives pass and no hits', () => {
    assert.deepEqual(gambling().check('今天天气很好'), { verdict: 'pass', categories: [], hits: [] });
    assert.deepEqual(gambling().check(''), { verdict: 'pass', categories: [], hits: [] });
  });

  test('start/end are JS string indices past astral characters', () => {
    const text = '😀😀 网络赌场 𠀀赌博';
    const { hits } = gambling().check(text);
    assert.equal(hits.length, 2);
    for (const h of hits) assert.equal(text.slice(h.start, h.end), h.matched);
    assert.deepEqual([hits[0].start, hits[0].end], [5, 9]);
    assert.deepEqual(hits[0].span.chars, [3, 7]);
    assert.deepEqual([hits[1].start, hits[1].end], [12, 14]);
  });

  test('evasions from the brief', () => {
    const f = gambling();
    const a = f.check('網上賭❤博');
    assert.equal(a.verdict, 'block');
    assert.equal(a.hits[0].matched, '賭❤博');
    assert.deepEqual(a.hits[0].flags, ['traditional', 'separator']);
    const b = f.check('ＶＩＡＧＲＡ');
    assert.equal(b.hits[0].category, 'spam');
    assert.deepEqual(b.hits[0].flags, ['compat', 'case']);
  });

  test('checkFields names the field; spans index each field', () => {
    const report = gambling().checkFields({ title: '赌博', body: '欢迎来到网络赌场' });
    assert.deepEqual(report.hits.map((h) => [h.field, h.start, h.end]), [['title', 0, 2], ['body', 4, 8]]);
    assert.equal(report.verdict, 'block');
    assert.throws(() => gambling().checkFields({ title: 1 }), /fields\["title"\] must be a string, got number/);
    assert.throws(() => gambling().checkFields('赌博'), /fields must be an object/);
  });
});

describe('options', () => {
  test('the shipped lexicon loads by default', () => {
    const f = new Filter();
    assert.ok(f.stats().terms >= 0);
    assert.deepEqual(new Filter({}).stats(), f.stats());
    assert.deepEqual(new Filter(undefined).stats(), f.stats());
    assert.equal(typeof version(), 'string');
  });

  test('defaultLists: false with extra lists; extra lists layer on the shipped ones', () => {
    const own = new Filter({ defaultLists: false, lists: { custom: '独角兽\n' } });
    assert.equal(own.stats().terms, 1);
    assert.deepEqual(own.categories(), ['custom']);
    const layered = new Filter({ lists: { custom: '独角兽\n' } });
    assert.equal(layered.stats().terms, new Filter().stats().terms + 1);
    assert.equal(layered.check('独角兽').hits[0].category, 'custom');
  });

  test('list keys: category, .allow, .regex, allow, categories, full file names', () => {
    const f = new Filter({
      defaultLists: false,
      lists: {
        drugs: '大麻\n',
        'drugs.allow': '大麻烦\n',
        'spam.regex': '加(微信|vx):?[a-z0-9_]{5,20}\taction=review\n',
        'fraud.txt': '刷单返利\n',
        'fraud.allow.txt': '刷单返利骗局\n',
        allow: '操场\n',
        abuse: '操\n',
        categories: '[category.drugs]\nname = "毒品"\naction = "review"\n',
      },
    });
    assert.ok(f.isClean('真是个大麻烦'));
    assert.equal(f.check('大麻').verdict, 'review', 'categories.toml applies whatever its position');
    assert.equal(f.check('加vx:abc_123').hits[0].category, 'spam');
    assert.ok(f.isClean('刷单返利骗局曝光'));
    assert.equal(f.check('刷单返利').verdict, 'block');
    assert.ok(f.isClean('去操场'));
    assert.deepEqual(f.categories().sort(), ['abuse', 'drugs', 'fraud', 'spam']);
  });

  test('list keys may carry directories: the shipped lexicon passed as text', () => {
    const root = join(repoRoot, 'wordlists');
    const lists = {};
    const walk = (dir, prefix) => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
        else if (name.endsWith('.txt') || name.endsWith('.toml')) lists[prefix + name] = readFileSync(path, 'utf8');
      }
    };
    walk(root, '');
    const fromText = new Filter({ defaultLists: false, lists });
    const shipped = new Filter();
    assert.deepEqual(fromText.stats(), shipped.stats());
    const text = '澳门赌场真人荷官在线发牌，加微信 abc12345 ，网上賭 博';
    const a = fromText.check(text);
    const b = shipped.check(text);
    assert.ok(b.hits.length > 0);
    assert.deepEqual(a.hits.map((h) => h.rule), b.hits.map((h) => h.rule.replace(/^wordlists\//, 'inline:')));
    assert.deepEqual(a.hits.map(({ rule, ...h }) => h), b.hits.map(({ rule, ...h }) => h));
  });

  test('top-level allow and categories', () => {
    const f = new Filter({
      defaultLists: false,
      lists: { drugs: '大麻\n' },
      allow: '大麻烦\n',
      categories: '[category.drugs]\naction = "review"\n',
    });
    assert.ok(f.isClean('大麻烦'));
    assert.equal(f.verdict('大麻'), 'review');
  });

  test('normalize switches', () => {
    const lists = { gambling: '赌博\n' };
    assert.equal(new Filter({ defaultLists: false, lists }).verdict('網上賭博'), 'block');
    assert.equal(new Filter({ defaultLists: false, lists, normalize: { traditional: false } }).verdict('網上賭博'), 'pass');
    assert.equal(new Filter({ defaultLists: false, lists, normalize: { separators: false } }).verdict('赌 博'), 'pass');
    assert.equal(new Filter({ defaultLists: false, lists, normalize: { maxGap: 2 } }).verdict('赌---博'), 'pass');
    assert.equal(new Filter({ defaultLists: false, lists, normalize: { max_gap: 3 } }).verdict('赌---博'), 'block');
  });

  test('bad options throw Errors that name the option', () => {
    const cases = [
      [42, /options must be an object, got number/],
      ['gambling', /options must be an object, got string/],
      [{ colour: 'red' }, /unknown option colour/],
      [{ defaultLists: 'no' }, /options.defaultLists must be a boolean, got string/],
      [{ lists: 'gambling' }, /options.lists must be an object/],
      [{ lists: ['赌博'] }, /options.lists must be an object.*got array/],
      [{ lists: { gambling: 42 } }, /options.lists\["gambling"\] must be a string, got number/],
      [{ normalize: { traditional: 1 } }, /options.normalize.traditional must be a boolean/],
      [{ normalize: { maxGap: 0 } }, /maxGap must be an integer from 1 to 255/],
      [{ normalize: { maxGap: 1.5 } }, /maxGap must be an integer/],
      [{ normalize: { shouting: true } }, /unknown option normalize.shouting/],
      [{ allow: 7 }, /options.allow must be a string, got number/],
    ];
    for (const [options, re] of cases) {
      assert.throws(() => new Filter(options), (e) => e instanceof Error && re.test(e.message), JSON.stringify(options));
    }
  });
});

describe('list errors', () => {
  test('a bad attribute: Error "file:line: …" with kind, file, line', () => {
    let err;
    try {
      new Filter({ defaultLists: false, lists: { gambling: '赌博\n网络赌场\tcolour=red\n' } });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Error);
    assert.match(err.message, /^inline:gambling\.txt:2: /);
    assert.equal(err.kind, 'attribute');
    assert.equal(err.file, 'inline:gambling.txt');
    assert.equal(err.line, 2);
  });

  test('a bad regex', () => {
    assert.throws(
      () => new Filter({ defaultLists: false, lists: { 'spam.regex': '加(微信\n' } }),
      (e) => e instanceof Error && /^inline:spam\.regex\.txt:1: /.test(e.message) && e.kind === 'regex',
    );
  });

  test('a bad file name and a bad categories.toml', () => {
    assert.throws(() => new Filter({ defaultLists: false, lists: { 'bad name': 'x\n' } }), /not a valid category id/);
    assert.throws(
      () => new Filter({ defaultLists: false, categories: '[category.gambling\n' }),
      (e) => e instanceof Error && e.message.startsWith('inline:categories.toml') && e.kind === 'categories',
    );
  });

  test('a term that is only noise', () => {
    assert.throws(
      () => new Filter({ defaultLists: false, lists: { spam: 'ok\n☆☆\n' } }),
      (e) => e instanceof Error && /^inline:spam\.txt:2: /.test(e.message),
    );
  });
});

describe('mask, isClean, verdict, normalize', () => {
  test('mask replaces each hit with one mask character per character', () => {
    const f = gambling();
    assert.equal(f.mask('网上赌 博'), '网上***');
    assert.equal(f.mask('网上赌 博', '#'), '网上###');
    assert.equal(f.mask('😀赌博😀', '😈'), '😀😈😈😀');
    assert.equal(f.mask('网络赌场赌博', undefined), '******');
    assert.equal(f.mask('干净', '*'), '干净');
  });

  test('isClean and verdict', () => {
    const f = gambling();
    assert.equal(f.isClean('网上赌博'), false);
    assert.equal(f.isClean('网上购物'), true);
    assert.equal(f.verdict('网上赌博'), 'block');
    assert.equal(f.verdict('网上购物'), 'pass');
  });

  test('normalize shows the matched view', () => {
    assert.equal(typeof gambling().normalize('網上ＶＩＡＧＲＡ'), 'string');
    assert.match(gambling().normalize('ＶＩＡＧＲＡ'), /viagra/);
  });

  test('free() releases the filter; later use throws', () => {
    const f = gambling();
    f.free();
    assert.throws(() => f.check('赌博'), Error);
  });
});
