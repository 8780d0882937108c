// Clicks functions in a fathom view report (headless chromium through
// playwright-core) and checks the Source tab: a row of the hotspot table and a
// frame of the flame graph open their function's source, whose lines carry
// the figures fathom lines --json gives for them (CPU self and total, as
// time and as shares, allocation calls, bytes, bytes at the peak and leaked
// bytes; a memory column only where the function has such figures) beside
// the same text, and whose heat bar is widest on the hottest line.
//
// usage: node test-view-source.mjs [--chromium PATH] REPORT.html LINES.json
//                                  [--row NAME]... [--frame NAME]... [--inlined NAME]... [--no-text]
// --no-text: the report was made with --no-source (no text may be shown).
// --inlined NAME: as --row, and the code fathom lines notes as inlined under
// each of NAME's lines is shown under that line with the same figures.
// Exits 0 when every check holds, 1 on the first failure, 2 on bad usage.
import fs from 'node:fs';
import { checker, inBrowser, openReport } from './view-harness.mjs';

const args = process.argv.slice(2);
let exe = '/usr/bin/chromium';
let noText = false;
const clicks = [];
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--chromium') exe = args[++i];
  else if (args[i] === '--row') clicks.push({ how: 'row', name: args[++i] });
  else if (args[i] === '--frame') clicks.push({ how: 'frame', name: args[++i] });
  else if (args[i] === '--inlined') clicks.push({ how: 'row', name: args[++i], inlined: true });
  else if (args[i] === '--no-text') noText = true;
  else pos.push(args[i]);
}
if (pos.length !== 2 || !clicks.length) {
  console.error('usage: node test-view-source.mjs [--chromium PATH] REPORT.html LINES.json [--row NAME]... [--frame NAME]... [--no-text]');
  process.exit(2);
}
const [report, linesJson] = pos;
const lines = JSON.parse(fs.readFileSync(linesJson, 'utf8'));

const ok = checker();

// fathom lines' function of that name.
function linesOf(name) {
  for (const file of lines.files) for (const f of file.functions) if (f.name === name) return f;
  return null;
}

// The Source tab as shown: title, note, and per line its figures by column key.
const shown = (page) => page.evaluate(() => {
  const keys = [...document.querySelectorAll('#source thead th')].map((th) => th.dataset.key || '');
  return {
    keys,
    tab: document.querySelector('.tab.on').dataset.tab,
    title: document.getElementById('source-title').textContent,
    note: document.getElementById('source-note').textContent,
    inlined: [...document.querySelectorAll('#source tbody tr.inl')].map((tr) => {
      const r = { at: Number(tr.dataset.inlinedAt), func: tr.dataset.inlinedFunc, line: Number(tr.dataset.inlinedLine),
        code: tr.querySelector('td.code').textContent };
      keys.forEach((k, i) => { if (k) r[k] = Number(tr.cells[i].dataset.v); });
      return r;
    }),
    rows: [...document.querySelectorAll('#source tbody tr[data-line]')].map((tr) => {
      const r = { line: Number(tr.dataset.line), code: tr.querySelector('td.code').textContent,
        heat: Number(tr.querySelector('td.heat').dataset.v),
        bar: tr.querySelector('td.heat .bar') ? parseFloat(tr.querySelector('td.heat .bar').style.width) : 0 };
      keys.forEach((k, i) => { if (k) r[k] = Number(tr.cells[i].dataset.v); });
      keys.forEach((k, i) => { if (k.endsWith('%')) r[k] = tr.cells[i].textContent; });
      return r;
    }),
  };
});

await inBrowser(exe, async (ctx) => {
  const page = await openReport(ctx, report, ok);
  for (const c of clicks) {
    const want = linesOf(c.name);
    ok(want && want.lines.length > 0, 'fathom lines shows ' + c.name, want && want.lines.length);
    if (c.how === 'row') {
      await page.click('.tab[data-tab="hotspots"]');
      await page.selectOption('#metric', 'cpu').catch(() => {});
      const row = page.locator('#hotspots tbody tr', { has: page.locator('td.name', { hasText: new RegExp('^' + c.name + '$') }) });
      ok(await row.count() === 1, c.name + ' has one row in the hotspot table', await row.count());
      await row.click();
    } else {
      await page.keyboard.press('Escape');
      const at = await page.evaluate((n) => window.fathomViewer.locate(n), c.name);
      ok(at !== null, c.name + ' is drawn in the flame graph', at);
      await page.mouse.click(at.x, at.y);
    }
    const s = await shown(page);
    ok(s.tab === 'source' && s.title.startsWith(c.name), 'clicking ' + c.name + ' (' + c.how + ') opens its source', [s.tab, s.title]);
    const byLine = new Map(s.rows.map((r) => [r.line, r]));
    const diffs = [];
    for (const l of want.lines) {
      const r = byLine.get(l.line);
      const exp = { 'cpu/self': l.self_weight, 'cpu/total': l.total_weight, 'alloc-calls/total': l.alloc_calls,
        'alloc-bytes/total': l.alloc_bytes, 'peak-bytes/total': l.peak_bytes, 'leaked-bytes/total': l.leaked_bytes };
      if (!r) { diffs.push({ line: l.line, missing: true }); continue; }
      for (const [k, v] of Object.entries(exp))
        if (k in r ? r[k] !== v : v !== 0) diffs.push({ line: l.line, column: k, lines: v, viewer: r[k] });
      // The shares as fathom lines gives them (it prints one decimal).
      for (const [k, v] of Object.entries({ 'cpu/self%': l.self_percent, 'cpu/total%': l.total_percent }))
        if (k in r ? Math.abs((parseFloat(r[k]) || 0) - v) > 0.051 : v !== 0) diffs.push({ line: l.line, column: k, lines: v, viewer: r[k] });
      if (!noText && l.text !== null && l.text !== undefined && r.code !== l.text)
        diffs.push({ line: l.line, text: r.code, lines: l.text });
    }
    ok(diffs.length === 0, c.name + ': every line fathom lines shows has its figures' + (noText ? '' : ' and text') +
      ' in the viewer (' + want.lines.length + ' lines)', diffs.slice(0, 4));
    // As in fathom lines, a memory column that is zero on all of the
    // function's lines is left out, and one with figures is shown.
    const cols = { 'alloc-calls/total': 'alloc_calls', 'alloc-bytes/total': 'alloc_bytes', 'peak-bytes/total': 'peak_bytes',
      'leaked-bytes/total': 'leaked_bytes' };
    const colDiffs = Object.entries(cols).filter(([k, key]) =>
      s.keys.includes(k) !== (want.lines.some((l) => l[key]) || want.lines.some((l) => (l.inlined || []).some((i) => i[key]))));
    ok(colDiffs.length === 0, c.name + ': its memory columns are those with figures (' +
      s.keys.filter((k) => k in cols).join(', ') + ')', colDiffs);
    if (c.inlined) {
      const want_inl = [];
      for (const l of want.lines) for (const i of l.inlined || []) want_inl.push({ at: l.line, ...i });
      ok(want_inl.length > 0, 'fathom lines notes code inlined into ' + c.name, want_inl.length);
      const idiffs = [];
      for (const w of want_inl) {
        const r = s.inlined.find((x) => x.at === w.at && x.func === w.function && x.line === w.line);
        if (!r) { idiffs.push({ at: w.at, func: w.function, line: w.line, missing: true }); continue; }
        for (const [k, v] of Object.entries({ 'cpu/self': w.self_weight, 'cpu/total': w.total_weight }))
          if (r[k] !== v) idiffs.push({ at: w.at, line: w.line, column: k, lines: v, viewer: r[k] });
        if (!noText && w.text !== null && w.text !== undefined && r.code !== w.text)
          idiffs.push({ at: w.at, line: w.line, text: r.code, lines: w.text });
      }
      ok(idiffs.length === 0 && s.inlined.length >= want_inl.length, c.name + ': the code inlined at its lines is shown under them with ' +
        'the figures fathom lines gives (' + want_inl.length + ' lines)', idiffs.slice(0, 4));
    }
    if (noText) ok(s.rows.every((r) => r.code === ''), c.name + ': no source text without sources', s.note);
    const hottest = s.rows.reduce((a, r) => (r.heat > a.heat ? r : a), s.rows[0]);
    ok(hottest.heat > 0 && hottest.bar === 100 && s.rows.every((r) => r.bar <= hottest.bar),
      c.name + ': the heat bar is widest on the hottest line (' + hottest.line + ')', hottest);
  }
  ok(page.errors.length === 0, 'no page errors', page.errors);
  console.log('# ' + ok.count() + ' checks passed');
});
