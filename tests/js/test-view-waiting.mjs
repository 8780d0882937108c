// Checks the viewer's Waiting tab on a synthetic dump of known waits
// (waitprof_gendump's facts): the tab shows only for recordings with waits;
// its thread table lists the most waiting thread first with its time and a
// timeline of 100 columns (counter-1 ran, waited, ran, ended); its lock table
// names the mutex's waiters' and holders' sites and shares as fathom wait
// does; and the weight switch offers the waiting time, whose hotspot table
// puts the program's call that waited first.
//
// usage: node test-view-waiting.mjs --chromium PATH REPORT.html FACTS.txt PLAIN.html
// Exits 0 when every check holds, 1 on the first failure, 2 on bad usage.
import fs from 'node:fs';
import { checker, inBrowser, openReport } from './view-harness.mjs';

const args = process.argv.slice(2);
let exe = '/usr/bin/chromium';
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--chromium') exe = args[++i];
  else pos.push(args[i]);
}
if (pos.length !== 3) {
  console.error('usage: node test-view-waiting.mjs [--chromium PATH] REPORT.html FACTS.txt PLAIN.html');
  process.exit(2);
}
const [report, factsFile, plain] = pos;
const facts = Object.fromEntries(fs.readFileSync(factsFile, 'utf8').trim().split('\n').map((l) => {
  const i = l.indexOf('=');
  return [l.slice(0, i), l.slice(i + 1)];
}));
const ok = checker();
const cells = (page, table) => page.evaluate((t) =>
  [...document.querySelectorAll('#' + t + ' tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent)), table);

await inBrowser(exe, async (ctx) => {
  const page = await openReport(ctx, report, ok);
  ok(await page.isVisible('.tab[data-tab="waiting"]'), 'the Waiting tab shows for a recording with waits');
  await page.click('.tab[data-tab="waiting"]');
  const threads = await cells(page, 'wait-threads');
  ok(threads.length === 7, 'seven threads', threads.map((r) => r[0]));
  ok(threads[0][0] === 'gen-main (tid 100)' && threads[0][1] === '1.20 s', 'the most waiting thread first', threads[0]);
  const c1 = threads.find((r) => r[0] === 'counter-1 (tid 101)');
  ok(c1 && c1[1] === '300.0 ms' && c1[3] === 'lock 100.0%', 'counter-1 waited 300 ms, all for the lock', c1);
  const colours = await page.evaluate(() => {
    const row = [...document.querySelectorAll('#wait-threads tbody tr')]
      .find((tr) => tr.cells[0].textContent === 'counter-1 (tid 101)');
    return [...row.querySelectorAll('.tl-bar i')].map((i) => i.style.background);
  });
  ok(colours.length === 100, 'a timeline of 100 columns', colours.length);
  const run = 'rgb(47, 158, 85)', wait = 'rgb(224, 138, 47)';
  const span = (a, b, c) => colours.slice(a, b).every((x) => x === c);
  // 1.2 s in 100 columns: ran 0-200 ms (0-16), waited 200-500 ms (17-41),
  // ran 500-600 ms (42-49), ended.
  ok(span(0, 16, run) && span(17, 41, wait) && span(42, 49, run) && span(51, 100, 'transparent'),
    'counter-1 ran, waited for the lock, ran and ended', colours.join(' ').replace(/rgb\(47, 158, 85\)/g, 'R')
      .replace(/rgb\(224, 138, 47\)/g, 'W'));
  const objects = await cells(page, 'wait-objects');
  ok(objects[0][0] === 'mutex 0x5000' && objects[0][1] === '600.0 ms' && objects[0][2] === '3',
    'the contended mutex first: 600 ms, 3 threads', objects[0]);
  ok(objects[0][3] === facts.mutex_site + ' 100.0%', 'its waiters\' site', [objects[0][3], facts.mutex_site]);
  ok(objects[0][4] === facts.holder_site + ' 78.0%, ' + facts.flush_site + ' 22.0% of 100',
    'its holders\' release sites and shares', [objects[0][4], facts.holder_site]);
  const reasons = await cells(page, 'wait-reasons');
  ok(reasons[0][0] === 'lock' && reasons[0][1] === '1.01 s', 'lock is the first reason', reasons[0]);

  // The waiting time is a weight: its hotspots put join_all first (1 s).
  const opts = await page.evaluate(() => [...document.querySelectorAll('#metric option')].map((o) => o.value));
  ok(opts.includes('wait'), 'the weight switch offers the waiting time', opts);
  await page.selectOption('#metric', 'wait');
  await page.click('.tab[data-tab="hotspots"]');
  const hot = await cells(page, 'hotspots');
  ok(hot[0][0] === 'join_all' && hot[0][1] === '1.00 s', 'the waiting hotspots: join_all first, 1 s self', hot[0]);

  const p2 = await openReport(ctx, plain, ok);
  ok(!(await p2.isVisible('.tab[data-tab="waiting"]')), 'no Waiting tab without waits');
  console.log('# ' + ok.count() + ' checks of the Waiting tab');
});
