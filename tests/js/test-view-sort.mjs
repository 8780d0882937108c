// Checks the order the viewer's tables open in (headless chromium through
// playwright-core): the hotspot table by self weight, descending, its first
// row the function fathom report puts first; the diff table by signed change,
// the biggest regression first; and that a click still sorts by any column.
//
// usage: node test-view-sort.mjs --chromium PATH REPORT.html TOP_SELF_NAME
//                                [DIFF.html REGRESSED_NAME REGRESSION]
// Exits 0 when every check holds, 1 on the first failure, 2 on bad usage.
import { checker, inBrowser, openReport } from './view-harness.mjs';

const args = process.argv.slice(2);
let exe = '/usr/bin/chromium';
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--chromium') exe = args[++i];
  else pos.push(args[i]);
}
if (pos.length !== 2 && pos.length !== 5) {
  console.error('usage: node test-view-sort.mjs [--chromium PATH] REPORT.html TOP_SELF [DIFF.html REGRESSED REGRESSION]');
  process.exit(2);
}
const [report, topSelf, diffReport, regressed, regression] = pos;

const ok = checker();
const sorted = (a, dir) => a.every((v, i) => i === 0 || (dir < 0 ? a[i - 1] >= v : a[i - 1] <= v));

// The rows of a table: the name and the numeric value (data-v) of column KEY.
const rows = (page, table, key) => page.evaluate(([t, k]) => {
  const ths = [...document.querySelectorAll('#' + t + ' thead th')];
  const idx = ths.findIndex((th) => th.dataset.key === k);
  return [...document.querySelectorAll('#' + t + ' tbody tr')].map((tr) => ({
    name: tr.cells[0].textContent, v: Number(tr.cells[idx].dataset.v) }));
}, [table, key]);
const header = (page, table) => page.evaluate((t) => {
  const th = document.querySelector('#' + t + ' thead th.sorted');
  return th ? th.dataset.key + (th.classList.contains('desc') ? ' desc' : ' asc') : null;
}, table);

await inBrowser(exe, async (ctx) => {
  const page = await openReport(ctx, report, ok);
  await page.click('.tab[data-tab="hotspots"]');
  const self = await rows(page, 'hotspots', 'self');
  ok(self.length > 1, 'the hotspot table has rows', self.length);
  ok(await header(page, 'hotspots') === 'self desc', 'the Self column is marked as the sort, descending',
    await header(page, 'hotspots'));
  ok(sorted(self.map((r) => r.v), -1), 'the hotspot table opens sorted by self, descending', self.slice(0, 5));
  ok(self[0].name === topSelf, 'its first row is fathom report\'s top self function', [self[0].name, topSelf]);
  // Any column still sorts: Total descending, then ascending.
  await page.click('#hotspots th[data-key="total"]');
  const total = await rows(page, 'hotspots', 'total');
  ok(sorted(total.map((r) => r.v), -1) && total[0].v >= self[0].v, 'clicking Total sorts by total, descending',
    total.slice(0, 3));
  await page.click('#hotspots th[data-key="total"]');
  ok(sorted((await rows(page, 'hotspots', 'total')).map((r) => r.v), 1), 'clicking Total again sorts ascending');
  await page.click('#hotspots th[data-key="self"]');
  ok(sorted((await rows(page, 'hotspots', 'self')).map((r) => r.v), -1), 'clicking Self sorts by self again');

  if (diffReport) {
    const d = await openReport(ctx, diffReport, ok);
    await d.click('.tab[data-tab="diff"]');
    const change = await rows(d, 'diff-table', 'delta');
    ok(change.length > 2, 'the diff table has rows', change.length);
    ok(await header(d, 'diff-table') === 'delta desc', 'the Change column is marked as the sort, descending',
      await header(d, 'diff-table'));
    ok(sorted(change.map((r) => r.v), -1), 'the diff table opens sorted by change, growth first', change.slice(0, 5));
    ok(change[0].name === regressed && change[0].v === Number(regression),
      'its first row is the biggest regression', [change[0], regressed, Number(regression)]);
    ok(change.some((r) => -r.v > change[0].v), 'a larger shrink exists, listed after it',
      change[change.length - 1]);
    // Clicking Change reverses: the biggest shrink first.
    await d.click('#diff-table th[data-key="delta"]');
    const rev = await rows(d, 'diff-table', 'delta');
    ok(sorted(rev.map((r) => r.v), 1) && rev[0].v < 0, 'clicking Change lists the biggest shrinks first', rev.slice(0, 3));
    await d.click('#diff-table th[data-key="name"]');
    const names = (await rows(d, 'diff-table', 'delta')).map((r) => r.name);
    ok(sorted(names, 1), 'clicking Function sorts by name', names.slice(0, 3));
  }
  console.log('# ' + ok.count() + ' checks passed');
});
