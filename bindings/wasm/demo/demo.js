// lexguard-wasm demo: live highlighting of hits while typing, a verdict badge and a publish
// button that is disabled while the text would be blocked. No framework, no build step.
//
// URL parameters (handy for tests and links): ?defaultLists=0 starts without the shipped
// lexicon; ?terms=gambling:赌博|spam:viagra pre-fills "your terms"; ?text=… pre-fills the editor.
import init, { Filter, version } from '../pkg/web/lexguard_wasm.js';

const $ = (id) => document.getElementById(id);
const text = $('text');
const highlights = $('highlights');
const backdrop = $('backdrop');
const badge = $('verdict');
const publish = $('publish');
const maskButton = $('mask');
const summary = $('summary');
const status = $('status');
const hitsBody = $('hits').querySelector('tbody');
const custom = $('custom');
const defaultLists = $('defaultLists');
const listError = $('listError');

const SWITCHES = ['invisible', 'compat', 'case', 'traditional', 'homoglyph', 'leet', 'separators', 'pinyin'];
const KNOWN_COLORS = new Set(['gambling', 'pornography', 'drugs', 'weapons', 'fraud', 'violence', 'abuse', 'spam']);
const colorOf = (category) => `var(--${KNOWN_COLORS.has(category) ? category : 'other'})`;

let filter = null;
let lastReport = null;

// ---- settings ----
for (const name of SWITCHES) {
  const label = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = true;
  box.id = `opt-${name}`;
  box.dataset.option = name;
  label.append(box, ` ${name}`);
  $('switches').append(label);
}

const params = new URLSearchParams(location.search);
if (params.get('defaultLists') === '0') defaultLists.checked = false;
if (params.has('terms')) custom.value = params.get('terms').split('|').join('\n');
if (params.has('text')) text.value = params.get('text');

/** "category: term" lines -> { category: "term\nterm" }; other lines go to `custom`. */
function parseCustom(source) {
  const lists = {};
  for (const raw of source.split('\n')) {
    if (!raw.trim()) continue;
    const m = /^\s*([A-Za-z0-9_-]+)\s*[:：]\s*(.*)$/.exec(raw);
    const [category, term] = m ? [m[1], m[2]] : ['custom', raw];
    (lists[category] ??= []).push(term);
  }
  return Object.fromEntries(Object.entries(lists).map(([c, terms]) => [c, terms.join('\n')]));
}

function rebuild() {
  const normalize = {};
  for (const box of document.querySelectorAll('[data-option]')) normalize[box.dataset.option] = box.checked;
  const options = { defaultLists: defaultLists.checked, lists: parseCustom(custom.value), normalize };
  const t0 = performance.now();
  try {
    const next = new Filter(options);
    filter?.free();
    filter = next;
    listError.hidden = true;
    listError.textContent = '';
  } catch (e) {
    // A bad list line: keep the previous filter, show "file:line: message".
    listError.hidden = false;
    listError.textContent = String(e.message ?? e);
    return;
  }
  const ms = performance.now() - t0;
  const s = filter.stats();
  $('stats').textContent = `lexguard ${version()} · ${s.terms} terms, ${s.patterns} patterns, ` +
    `${s.regexes} regexes · compiled in ${ms.toFixed(0)} ms`;
  document.body.dataset.ready = 'true';
  refresh();
}

// ---- rendering ----
function render(value, report) {
  // Merge overlapping hits, and touching hits of the same category, into one highlight
  // (labelled with every category it covers).
  const spans = [];
  for (const hit of [...report.hits].sort((a, b) => a.start - b.start || b.end - a.end)) {
    const last = spans.at(-1);
    if (last && (hit.start < last.end || (hit.start === last.end && last.categories.includes(hit.category)))) {
      last.end = Math.max(last.end, hit.end);
      if (!last.categories.includes(hit.category)) last.categories.push(hit.category);
      if (hit.action === 'block') last.action = 'block';
    } else {
      spans.push({ start: hit.start, end: hit.end, categories: [hit.category], action: hit.action });
    }
  }
  const frag = document.createDocumentFragment();
  let pos = 0;
  for (const s of spans) {
    frag.append(value.slice(pos, s.start));
    const mark = document.createElement('mark');
    mark.textContent = value.slice(s.start, s.end);
    mark.dataset.category = s.categories[0];
    mark.dataset.label = s.categories.join(' · ');
    mark.dataset.action = s.action;
    mark.dataset.start = String(s.start);
    mark.dataset.end = String(s.end);
    mark.style.setProperty('--c', colorOf(s.categories[0]));
    mark.title = `${s.categories.join(', ')} (${s.action})`;
    frag.append(mark);
    pos = s.end;
  }
  // A trailing newline needs a character after it to take up a line in the mirror.
  frag.append(value.slice(pos) + '\u200b');
  highlights.replaceChildren(frag);
  backdrop.scrollTop = text.scrollTop;

  badge.dataset.verdict = report.verdict;
  badge.className = 'badge';
  badge.textContent = report.verdict;
  publish.disabled = report.verdict === 'block';
  publish.title = report.verdict === 'block' ? 'Blocked: remove the highlighted content first'
    : report.verdict === 'review' ? 'Will be held for review' : '';
  maskButton.disabled = report.hits.length === 0;
  summary.textContent = report.hits.length
    ? `${report.hits.length} hit${report.hits.length > 1 ? 's' : ''}: ${report.categories.join(', ')}`
    : '';

  const rows = report.hits.map((h) => {
    const tr = document.createElement('tr');
    const cells = [null, h.matched, h.term, h.flags.join(', '), h.action, h.rule, `${h.start}–${h.end}`];
    for (const c of cells) {
      const td = document.createElement('td');
      if (c === null) {
        const chip = document.createElement('span');
        chip.className = 'chip';
        chip.style.setProperty('--c', colorOf(h.category));
        chip.textContent = h.category;
        td.append(chip);
      } else {
        td.textContent = c;
      }
      tr.append(td);
    }
    return tr;
  });
  hitsBody.replaceChildren(...rows);
}

function refresh() {
  if (!filter) return;
  const value = text.value;
  const t0 = performance.now();
  lastReport = filter.check(value);
  const ms = performance.now() - t0;
  render(value, lastReport);
  status.textContent = `${value.length} UTF-16 units checked in ${ms.toFixed(1)} ms`;
}

// ---- events ----
text.addEventListener('input', refresh);
text.addEventListener('scroll', () => { backdrop.scrollTop = text.scrollTop; });
let timer = 0;
const rebuildSoon = () => { clearTimeout(timer); timer = setTimeout(rebuild, 250); };
custom.addEventListener('input', rebuildSoon);
defaultLists.addEventListener('change', rebuild);
$('switches').addEventListener('change', rebuild);
maskButton.addEventListener('click', () => {
  text.value = filter.mask(text.value, '＊');
  refresh();
});
publish.addEventListener('click', () => {
  if (!lastReport || lastReport.verdict === 'block') return;
  status.textContent = lastReport.verdict === 'review'
    ? 'Submitted — held for review (demo: nothing is sent).'
    : 'Published (demo: nothing is sent).';
});

await init();
rebuild();
