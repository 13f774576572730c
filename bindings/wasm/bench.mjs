#!/usr/bin/env node
// Benchmark of lexguard-wasm in Node against the native core, in the same run.
//
//   node bench.mjs [--text FILE] [--runs N] [--check]
//
// Text: --text FILE, else <repo>/.bench-data/news.txt when present (benches/fetch-corpus.sh),
// else ~8 MB of generated Chinese news-like text (written to test-output/bench-text.txt).
//
// Throughput: best of N runs (after warm-up) of `filter.check(text)` on the whole text, in MB/s of UTF-8.
//   - wasm: the public JS API, so it includes passing the string into wasm (UTF-16 -> UTF-8)
//     and turning the report into JS objects.
//   - native: examples/native_check.rs, `lexguard::Filter::check(&text)` in a release build
//     (the workspace's release profile, host CPU baseline), same text, same lists, same timing.
//   Both with the shipped lexicon, and with the corpus fixture lists (tests/corpus/lists).
//   Each measurement runs in a fresh process (warm-up, then best of N); native and wasm
//   processes alternate for --rounds rounds (default 3) and the best of each is kept.
// Cold start: a fresh `node` process loading pkg/node (compile + instantiate the module),
//   building `new Filter()` (the shipped lexicon) and running a first check; median of 7.
// Targets: wasm check >= 60% of native (on CPU time); cold start < 150 ms (on wall time minus
//   the time spent waiting for a core). --check exits 1 on a miss.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');
const outDir = join(here, 'test-output');
const pkgNode = join(here, 'pkg', 'node', 'lexguard_wasm.js');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(repo, 'target', 'wasm');
const fixtureDir = join(repo, 'tests', 'corpus', 'lists');

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const runs = Number(opt('--runs', 7));
const rounds = Number(opt('--rounds', 3));
const child = opt('--child');
const check = args.includes('--check');

if (!existsSync(pkgNode)) {
  console.error('pkg/node is missing: run `bash build.sh` first');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

// ---- the text ----
function generateText(bytes) {
  // Deterministic pseudo-random news-like Chinese with some English, digits and punctuation.
  const words = ('今天 我们 城市 交通 天气 经济 发展 记者 报道 政府 部门 表示 公司 市场 价格 增长 教育 学生 学校 医院 ' +
    '医生 健康 体育 比赛 球队 冠军 科技 手机 网络 平台 用户 数据 安全 管理 服务 工作 问题 情况 社会 文化 旅游 ' +
    '活动 环境 保护 能源 汽车 电影 音乐 历史 国际 合作 会议 项目 投资 银行 消费 生活 社区 居民 政策 改革 创新').split(' ');
  const punct = ['，', '，', '。', '、', '；', '！', '？', '：'];
  const extra = ['GDP', 'iPhone', '5G', 'AI', '2024年', '3.5%', 'NBA', 'COVID-19'];
  let seed = 42;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const out = [];
  let size = 0;
  while (size < bytes) {
    let sentence = '';
    const n = 6 + rand(12);
    for (let i = 0; i < n; i++) {
      sentence += rand(20) === 0 ? extra[rand(extra.length)] : words[rand(words.length)];
      if (rand(5) === 0) sentence += punct[rand(punct.length)];
    }
    sentence += rand(4) === 0 ? '。\n' : '。';
    out.push(sentence);
    size += Buffer.byteLength(sentence);
  }
  return out.join('');
}

let textFile = opt('--text');
let source;
if (textFile) {
  source = textFile;
} else if (existsSync(join(repo, '.bench-data', 'news.txt'))) {
  textFile = join(repo, '.bench-data', 'news.txt');
  source = '.bench-data/news.txt';
} else {
  textFile = join(outDir, 'bench-text.txt');
  if (!existsSync(textFile)) writeFileSync(textFile, generateText(8e6));
  source = 'generated Chinese text (test-output/bench-text.txt)';
}
const text = readFileSync(textFile, 'utf8');
if (!child) {
  // A snapshot for the native and wasm processes, so that they read the same text even when
  // the source file is regenerated meanwhile.
  const snapshot = join(outDir, 'bench-input.txt');
  if (textFile !== snapshot) writeFileSync(snapshot, text);
  textFile = snapshot;
}
const bytes = Buffer.byteLength(text);

// ---- timing: wall clock and on-CPU time of this thread ----
// On a busy machine wall-clock times mostly measure waiting for a core; the time the thread
// actually ran (Linux /proc/thread-self/schedstat) does not. Both are reported; the targets
// are judged on CPU time when it is available. Times are [wall, cpu] in ms.
const cpuNs = (() => {
  try {
    readFileSync('/proc/thread-self/schedstat', 'utf8');
    return () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
})();
function timed(f) {
  const c0 = cpuNs?.();
  const t0 = performance.now();
  const r = f();
  const wall = performance.now() - t0;
  return [r, [wall, cpuNs ? (cpuNs() - c0) / 1e6 : wall]];
}
function best(n, f) {
  const b = [Infinity, Infinity];
  for (let i = 0; i < n; i++) {
    const [, t] = timed(f);
    b[0] = Math.min(b[0], t[0]);
    b[1] = Math.min(b[1], t[1]);
  }
  return b;
}
const mbps = (t) => t.map((ms) => bytes / 1e6 / (ms / 1e3));

if (child) {
  console.log(JSON.stringify(wasmChild(child)));
  process.exit(0);
}

// ---- native reference ----
function cargoBuildNative() {
  const bin = join(targetDir, 'release', 'examples', 'native_check');
  try {
    execFileSync('cargo', ['build', '--release', '-q', '-p', 'lexguard-wasm', '--example', 'native_check',
      '--manifest-path', join(repo, 'Cargo.toml')], { stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: targetDir } });
  } catch (e) {
    if (!existsSync(bin)) throw e;
    console.warn(`warning: cargo build failed; using the existing ${bin}`);
  }
  return bin;
}
const nativeBin = cargoBuildNative();
function native(lists) {
  const r = JSON.parse(execFileSync(nativeBin,
    [textFile, '--runs', String(runs), ...(lists ? ['--lists', lists] : [])], { encoding: 'utf8' }));
  return { ...r, check_mbps: mbps(r.check), is_clean_mbps: mbps(r.is_clean) };
}

// ---- wasm ----
// Measured in a fresh node process per configuration (`--child`), like the native side.

function wasmChild(config) {
  const require = createRequire(import.meta.url);
  const { Filter } = require(pkgNode);
  let options = {};
  if (config === 'fixture') {
    const lists = Object.fromEntries(readdirSync(fixtureDir).sort()
      .filter((n) => n.endsWith('.txt') || n === 'categories.toml')
      .map((n) => [n, readFileSync(join(fixtureDir, n), 'utf8')]));
    options = { defaultLists: false, lists };
  }
  const [filter, build] = timed(() => new Filter(options));
  // Warm-up: V8 first runs wasm in its baseline tier and optimizes hot functions in the background.
  let hits = 0;
  for (let i = 0; i < 3; i++) hits = filter.check(text).hits.length;
  for (let i = 0; i < 3; i++) filter.isClean(text);
  const check = best(runs, () => filter.check(text));
  const isClean = best(runs, () => filter.isClean(text));
  return { hits, build, check, is_clean: isClean };
}
const wasm = (config) => {
  const r = JSON.parse(execFileSync(process.execPath,
    [fileURLToPath(import.meta.url), '--child', config, '--text', textFile, '--runs', String(runs)], { encoding: 'utf8' }));
  return { ...r, check_mbps: mbps(r.check), is_clean_mbps: mbps(r.is_clean) };
};

// Best of `rounds` rounds, native and wasm alternating, so that both see the same load.
const bestOf = (a, b) => (a === undefined ? b : Object.fromEntries(Object.entries(b).map(([k, v]) =>
  [k, Array.isArray(v) ? (k.endsWith('mbps') ? v.map((x, i) => Math.max(x, a[k][i])) : v.map((x, i) => Math.min(x, a[k][i]))) : v])));
const results = [];
for (const [name, config, nativeLists] of [['shipped lexicon', 'shipped', null], ['fixture lists', 'fixture', fixtureDir]]) {
  let n;
  let w;
  for (let r = 0; r < rounds; r++) {
    n = bestOf(n, native(nativeLists));
    w = bestOf(w, wasm(config));
  }
  if (n.hits !== w.hits) console.warn(`warning: ${name}: native found ${n.hits} hits, wasm ${w.hits}`);
  results.push({ lists: name, native: n, wasm: w, ratio: w.check_mbps.map((x, i) => x / n.check_mbps[i]) });
}

// ---- cold start ----
// A fresh node process: load pkg/node (read, compile, instantiate the module), build
// `new Filter()` (the shipped lexicon), run a first check. Main-thread times, as
// [wall, cpu, idle-machine wall] where the last is wall minus the time the thread waited in
// the run queue for a core (it still counts time blocked on anything else).
const coldScript = `
const fs = require('fs');
const st = () => { try { return fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map((x) => Number(x) / 1e6); } catch { return [NaN, NaN]; } };
const now = () => [Number(process.hrtime.bigint()) / 1e6, ...st()];
const t0 = now();
const { Filter } = require(${JSON.stringify(pkgNode)});
const t1 = now();
const f = new Filter();
const t2 = now();
f.check('网上赌博');
const t3 = now();
const d = (a, b) => [b[0] - a[0], b[1] - a[1], b[0] - a[0] - (b[2] - a[2])];
console.log(JSON.stringify({ load: d(t0, t1), build: d(t1, t2), first_check: d(t2, t3), total: d(t0, t3), terms: f.stats().terms }));
`;
const colds = [];
for (let i = 0; i < 7; i++) colds.push(JSON.parse(execFileSync(process.execPath, ['-e', coldScript], { encoding: 'utf8' })));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cold = Object.fromEntries(['load', 'build', 'first_check', 'total']
  .map((k) => [k, [0, 1, 2].map((i) => median(colds.map((c) => c[k][i])))]));
cold.terms = colds[0].terms;
for (const k of ['load', 'build', 'first_check', 'total']) {
  if (Number.isNaN(cold[k][1])) cold[k] = [cold[k][0], cold[k][0], cold[k][0]];
}

// ---- report ----
const fmt = (x, d = 1) => x.toFixed(d);
const pair = (t, d = 1) => `${fmt(t[0], d)} / ${fmt(t[1], d)}`;
console.log(`text: ${source}, ${fmt(bytes / 1e6, 2)} MB UTF-8, ${text.length} UTF-16 units; best of ${runs} runs`);
console.log(`node ${process.version}; wasm ${fmt(readFileSync(join(here, 'pkg', 'node', 'lexguard_wasm_bg.wasm')).length / 1e6, 2)} MB`);
console.log('MB/s of UTF-8 as "wall / cpu" (cpu: time the thread ran; see the header of bench.mjs)');
console.log('');
console.log('lists            hits   native check     native isClean   wasm check       wasm isClean     wasm/native check');
for (const r of results) {
  console.log(`${r.lists.padEnd(15)} ${String(r.wasm.hits).padStart(5)}   ${pair(r.native.check_mbps).padEnd(15)}  ` +
    `${pair(r.native.is_clean_mbps).padEnd(15)}  ${pair(r.wasm.check_mbps).padEnd(15)}  ${pair(r.wasm.is_clean_mbps).padEnd(15)}  ` +
    `${fmt(r.ratio[0] * 100, 0)}% / ${fmt(r.ratio[1] * 100, 0)}%`);
}
console.log('');
console.log(`filter build, ms (wall / cpu): native shipped ${pair(results[0].native.build)} ` +
  `(+ ${pair(results[0].native.first_build)} fold table on first use); wasm shipped, warm module ${pair(results[0].wasm.build)}`);
const triple = (t) => `${fmt(t[0])} / ${fmt(t[1])} / ${fmt(t[2])}`;
console.log(`cold start, ms (wall / main-thread cpu / wall minus run-queue wait), fresh node, shipped lexicon ` +
  `of ${cold.terms} terms, median of 7:`);
console.log(`  load+compile+instantiate ${triple(cold.load)}, new Filter() ${triple(cold.build)}, ` +
  `first check ${triple(cold.first_check)}; total ${triple(cold.total)}`);

const throughputOk = results.every((r) => r.ratio[1] >= 0.6);
const coldOk = cold.total[2] < 150;
console.log(`targets: wasm check >= 60% of native (cpu time): ${throughputOk ? 'met' : 'MISSED'}; ` +
  `cold start < 150 ms (wall minus run-queue wait): ${coldOk ? 'met' : 'MISSED'}`);
writeFileSync(join(outDir, 'bench.json'), JSON.stringify({ source, bytes, runs, node: process.version, results, cold }, null, 2));
if (check && !(throughputOk && coldOk)) process.exit(1);
