// The viewer's timeline in headless chromium: a lane per thread with CPU
// drawn, memory curves; dragging over phase A's time range leaves only
// phase_a in the flame graph and the hotspot table, over phase B's only
// phase_b, and clearing the range brings both back.
//
// usage: node test-view-timeline.mjs --chromium PATH REPORT.html SWITCH_NS SNAPSHOT_NS
// (phase_a runs before SWITCH_NS, phase_b after, on the recording's clock;
// a snapshot was marked at SNAPSHOT_NS). Exits 0, 1 on a failed
// check, 2 on bad usage.
import { checker, inBrowser, openReport } from './view-harness.mjs';

const args = process.argv.slice(2);
let exe = '/usr/bin/chromium';
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--chromium') exe = args[++i];
  else pos.push(args[i]);
}
if (pos.length !== 3) {
  console.error('usage: node test-view-timeline.mjs [--chromium PATH] REPORT.html SWITCH_NS SNAPSHOT_NS');
  process.exit(2);
}
const [report, switchNs, snapNs] = [pos[0], Number(pos[1]), Number(pos[2])];
const ok = checker();

// The names in the flame graph (drawn frames) and the hotspot table.
const shown = (page) => page.evaluate(() => {
  const v = window.fathomViewer;
  const flame = ['phase_a', 'phase_b'].filter((n) => v.locate(n) !== null);
  const table = [...document.querySelectorAll('#hotspots tbody tr')].map((tr) => tr.cells[0].textContent);
  return { flame, table: ['phase_a', 'phase_b'].filter((n) => table.includes(n)),
    note: document.getElementById('range-note').textContent, range: v.range() };
});

// Drags the mouse over the lanes from time t0 to t1 (ns).
async function drag(page, t0, t1) {
  const geo = await page.evaluate(() => {
    const c = document.getElementById('lanes');
    c.scrollIntoView({ block: 'center' });
    const b = c.getBoundingClientRect();
    return { x: b.left, y: b.top, left: Number(c.dataset.left), width: Number(c.dataset.width),
      end: Number(c.dataset.endNs) };
  });
  const x = (t) => geo.x + geo.left + (t / geo.end) * geo.width;
  await page.mouse.move(x(t0), geo.y + 8);
  await page.mouse.down();
  await page.mouse.move((x(t0) + x(t1)) / 2, geo.y + 9);
  await page.mouse.move(x(t1), geo.y + 10);
  await page.mouse.up();
}

await inBrowser(exe, async (ctx) => {
  const page = await openReport(ctx, report, ok);
  await page.click('.tab[data-tab="hotspots"]');
  const panel = await page.evaluate(() => {
    const c = document.getElementById('lanes');
    return { hidden: document.getElementById('time-panel').hidden, lanes: Number(c.dataset.lanes), w: c.width };
  });
  ok(!panel.hidden && panel.lanes >= 1 && panel.w > 0, 'the timeline shows a lane per thread', panel);
  // Some pixel of the first lane is coloured (CPU drawn).
  const drawn = await page.evaluate(() => {
    const c = document.getElementById('lanes');
    const d = c.getContext('2d').getImageData(0, 0, c.width, Math.round(16 * (window.devicePixelRatio || 1))).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] && Math.abs(d[i] - d[i + 1]) + Math.abs(d[i + 1] - d[i + 2]) > 60) n++;
    return n;
  });
  ok(drawn > 20, 'the first lane has CPU slices drawn in colour', drawn);
  // The heap curve (blue, #2f6fd6) below the lanes, and the snapshot's
  // line (purple, #7b3fc4) in the column of its time, over the lanes.
  const marks = await page.evaluate((t) => {
    const c = document.getElementById('lanes');
    const dpr = window.devicePixelRatio || 1;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const near = (i, r, g, b) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 60 && d[i + 3] > 128;
    // Below the lanes (4 px, 14 px a lane, 6 px), where the curves are.
    const memTop = Math.ceil((4 + 14 * Number(c.dataset.lanes) + 6) * dpr);
    let heap = 0;
    for (let i = memTop * c.width * 4; i < d.length; i += 4) if (near(i, 47, 111, 214)) heap++;
    const x = Math.round((Number(c.dataset.left) + (t / Number(c.dataset.endNs)) * Number(c.dataset.width)) * dpr);
    const column = (x0) => {
      let n = 0;
      for (let x1 = x0 - 2; x1 <= x0 + 2; x1++)
        for (let y = 0; y < c.height; y++) if (near((y * c.width + x1) * 4, 123, 63, 196)) n++;
      return n;
    };
    return { heap, snapshot: column(x), elsewhere: column(Math.round(Number(c.dataset.left) * dpr) + 4) };
  }, snapNs);
  ok(marks.heap > 20, 'the heap curve is drawn', marks);
  ok(marks.snapshot > 20 && marks.elsewhere === 0, 'the snapshot is marked at its time, and only there', marks);
  const all = await shown(page);
  ok(all.flame.length === 2 && all.table.length === 2 && all.range === null,
    'the whole run shows phase_a and phase_b', all);

  await drag(page, 0.05e9, switchNs - 0.1e9);
  const a = await shown(page);
  ok(a.range !== null, 'the drag chose a range', a);
  ok(a.flame.join() === 'phase_a' && a.table.join() === 'phase_a',
    'phase A\'s range: only phase_a in the flame graph and the table', a);

  await drag(page, switchNs + 0.1e9, switchNs + 1.0e9);
  const b = await shown(page);
  ok(b.flame.join() === 'phase_b' && b.table.join() === 'phase_b',
    'phase B\'s range: only phase_b in the flame graph and the table', b);

  await page.click('#range-clear');
  const back = await shown(page);
  ok(back.range === null && back.flame.length === 2 && back.table.length === 2,
    'clearing the range shows the whole run again', back);
  console.log('# ' + ok.count() + ' checks passed');
});
