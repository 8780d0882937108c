// Checks that the viewer's hotspot table shows the analyzer's figures (headless
// chromium through playwright-core): every row of the CPU table equals fathom
// report --json's row of that function (self and total weight), every row of
// a memory table has the self weight of fathom mem --json's sites of that
// function added up, a thread's table equals fathom report --tid's, and the
// page's one aggregation (a thread's CPU) gives the data's table exactly when
// run on the unfiltered weights.
//
// usage: node test-view-hotspots.mjs [--chromium PATH] REPORT.html REPORT.json
//                                    [--mem MEM.json] [--tid TID REPORT-TID.json]
// Exits 0 when every check holds, 1 on the first failure, 2 on bad usage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
let exe = '/usr/bin/chromium';
let memFile = null;
let tid = null;
let tidFile = null;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--chromium') exe = args[++i];
  else if (args[i] === '--mem') memFile = args[++i];
  else if (args[i] === '--tid') { tid = Number(args[++i]); tidFile = args[++i]; }
  else pos.push(args[i]);
}
if (pos.length !== 2) {
  console.error('usage: node test-view-hotspots.mjs [--chromium PATH] REPORT.html REPORT.json [--mem MEM.json] [--tid TID REPORT-TID.json]');
  process.exit(2);
}
const [report, reportJson] = pos;
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

let checks = 0;
function ok(cond, what, detail) {
  if (!cond) {
    console.error('FAIL: ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : ''));
    throw new Error('check failed');
  }
  checks++;
  console.log('ok ' + checks + ' - ' + what + (detail !== undefined ? ' (' + JSON.stringify(detail).slice(0, 300) + ')' : ''));
}

// A function as every output names it: name, source file and module.
const key = (name, file, module) => name + ' | ' + (file || '') + ' | ' + (module || '');

// The rows of fathom report --json: self and total CPU weight per function.
function reportRows(r) {
  const rows = new Map();
  for (const e of [...r.top_self, ...r.top_total])
    rows.set(key(e.name, e.file, e.module), { self: e.self_weight, total: e.total_weight });
  return rows;
}

// The viewer's table as shown: every row (the table shows them all when there
// are at most 500), keyed like the analyzer's, with its self and total.
async function shownRows(page) {
  return page.evaluate(() => {
    const d = JSON.parse(document.getElementById('fathom-data').textContent);
    const p = d.profiles[d.profiles.length - 1];
    const mods = p.modules;
    const ths = [...document.querySelectorAll('#hotspots thead th')];
    const col = (k) => ths.findIndex((th) => th.dataset.key === k);
    const [si, ti] = [col('self'), col('total')];
    return {
      note: document.getElementById('table-note').textContent,
      rows: [...document.querySelectorAll('#hotspots tbody tr')].map((tr) => {
        const f = Number(tr.dataset.func);
        const m = p.funcs.module[f];
        return { name: p.funcs.name[f], file: p.funcs.file[f], module: m >= 0 ? mods[m] : '',
          self: Number(tr.cells[si].dataset.v), total: Number(tr.cells[ti].dataset.v) };
      }),
    };
  });
}

// Compares the shown table with the analyzer's rows (want: key -> {self, total?}).
function compare(what, shown, want, totals) {
  ok(!/^showing/.test(shown.note), what + ': the table shows every function', shown.note);
  const got = new Map();
  for (const r of shown.rows) {
    const k = key(r.name, r.file, r.module);
    ok(!got.has(k), what + ': one row per function', k);
    got.set(k, r);
  }
  const diffs = [];
  for (const [k, w] of want) {
    const g = got.get(k);
    if (!(w.self || (totals && w.total))) continue;
    if (!g) diffs.push({ function: k, analyzer: w, viewer: null });
    else if (g.self !== w.self || (totals && g.total !== w.total))
      diffs.push({ function: k, analyzer: w, viewer: { self: g.self, total: g.total } });
  }
  for (const [k, g] of got) {
    const w = want.get(k);
    if (!w && (g.self || (totals && g.total))) diffs.push({ function: k, analyzer: null, viewer: g });
  }
  ok(diffs.length === 0, what + ': every row equals the analyzer\'s (' + shown.rows.length + ' rows)', diffs.slice(0, 4));
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fathom-view-hot-'));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: exe, headless: true, viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
let status = 0;
try {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('file://' + path.resolve(report));
  await page.waitForFunction(() => window.fathomViewer && (window.fathomViewer.ready || window.fathomViewer.error),
    null, { timeout: 60000 });
  const err = await page.evaluate(() => window.fathomViewer.error || null);
  ok(err === null && errors.length === 0, report + ' loads without errors', [err, errors]);
  await page.click('.tab[data-tab="hotspots"]');
  const metrics = await page.evaluate(() => [...document.querySelectorAll('#metric option')].map((o) => o.value));

  // CPU, every thread: fathom report's rows.
  await page.selectOption('#metric', 'cpu');
  compare('CPU', await shownRows(page), reportRows(readJson(reportJson)), true);

  // The page's aggregation on the unfiltered weights is the analyzer's table.
  const tabs = await page.evaluate(() => window.fathomViewer.hotspotTables('cpu'));
  ok(tabs.analyzer.length > 0 && JSON.stringify(tabs.page) === JSON.stringify(tabs.analyzer),
    'the page\'s own aggregation (for a thread\'s CPU) on every thread equals the data\'s table (' +
    tabs.analyzer.length + ' functions)', tabs.page.filter((r, i) => JSON.stringify(r) !== JSON.stringify(tabs.analyzer[i])).slice(0, 4));

  // Memory: fathom mem's sites (a function at a line) added up per function.
  if (memFile) {
    const mem = readJson(memFile);
    const fields = { 'alloc-calls': 'calls', 'alloc-bytes': 'bytes', 'temp-calls': 'temp_calls',
      'leaked-bytes': 'leaked_bytes', 'leaked-blocks': 'leaked_blocks', 'peak-bytes': 'peak_bytes' };
    for (const [id, field] of Object.entries(fields)) {
      ok(metrics.includes(id), 'the viewer offers ' + id, metrics);
      const want = new Map();
      for (const s of mem.sites) {
        if (s.function === '[no stack]') continue;
        const k = key(s.function, s.file, s.module);
        const w = want.get(k) || { self: 0 };
        w.self += s[field];
        want.set(k, w);
      }
      await page.selectOption('#metric', id);
      compare(id + ' (self)', await shownRows(page), want, false);
    }
    await page.selectOption('#metric', 'cpu');
  }

  // One thread: fathom report --tid.
  if (tidFile) {
    const k = await page.evaluate((t) => {
      const d = JSON.parse(document.getElementById('fathom-data').textContent);
      return d.profiles[d.profiles.length - 1].threads.findIndex((th) => th.tid === t);
    }, tid);
    ok(k >= 0, 'thread ' + tid + ' is in the thread filter', k);
    await page.selectOption('#thread', String(k));
    compare('CPU of thread ' + tid, await shownRows(page), reportRows(readJson(tidFile)), true);
  }
  console.log('# ' + checks + ' checks passed');
} catch (e) {
  if (e.message !== 'check failed') console.error('FAIL: ' + (e.stack || e));
  status = 1;
} finally {
  await ctx.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(status);
