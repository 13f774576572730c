// Type-checked (not run) by tests/types.test.mjs with `tsc --strict --noEmit`: the .d.ts of both
// packages must describe the report as real interfaces.
import { Filter, version, type Report, type Hit, type Verdict, type FilterOptions, type Flag } from '../../pkg/node/lexguard_wasm.js';
import init, { Filter as WebFilter } from '../../pkg/web/lexguard_wasm.js';

const options: FilterOptions = {
  defaultLists: false,
  lists: { gambling: '赌博\n', 'spam.regex': '加微信' },
  allow: '操场',
  normalize: { traditional: false, maxGap: 3 },
};
const filter = new Filter(options);
const report: Report = filter.check('網上賭❤博');
const verdict: Verdict = report.verdict;
const first: Hit | undefined = report.hits[0];
if (first) {
  const start: number = first.start;
  const end: number = first.end;
  const utf16: [number, number] = first.span.utf16;
  const flags: Flag[] = first.flags;
  const category: string = first.category;
  const action: 'review' | 'block' = first.action;
  const field: string | undefined = first.field;
  void [start, end, utf16, flags, category, action, field];
}
const clean: boolean = filter.isClean('你好');
const masked: string = filter.mask('赌博');
const masked2: string = filter.mask('赌博', '#');
const v: Verdict = filter.verdict('赌博');
const stats: number = filter.stats().terms;
const s: string = version();
new Filter();
void [verdict, clean, masked, masked2, v, stats, s];

// @ts-expect-error: not a verdict
const bad: Verdict = 'maybe';
// @ts-expect-error: hits are not `any`
const notAny: string = report.hits[0].start;
// @ts-expect-error: unknown option
new Filter({ colour: 'red' });
// @ts-expect-error: list texts are strings
new Filter({ lists: { gambling: 1 } });
void [bad, notAny];

async function web(): Promise<Report> {
  await init();
  return new WebFilter().check('text');
}
void web;
