// Drives a fathom view report in headless Debian chromium (playwright-core) and
// checks what a user would: it loads with no console errors and no network
// requests, search highlights and totals frames, a click zooms, the weight
// switch and the thread filter change the view, the table sorts and focuses,
// the timeline marks the peak, the diff view colours changes, and a
// screenshot shows the flame graph.
//
// usage: node view-test.mjs REPORT.html [--search TEXT] [--zoom NAME] [--shot OUT.png]
//                           [--expect-diff] [--bench] [--load-only] [--chromium PATH]
// --bench prints the load figures on a last line; --load-only checks loading,
// drawing, search and the screenshot but not the interactions.
// Exits 0 when every check holds, 1 on the first failure, 2 on bad usage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = { search: null, zoom: null, shot: null, expectDiff: false, bench: false, loadOnly: false,
  chromium: '/usr/bin/chromium' };
let report = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--search') opt.search = args[++i];
  else if (a === '--zoom') opt.zoom = args[++i];
  else if (a === '--shot') opt.shot = args[++i];
  else if (a === '--expect-diff') opt.expectDiff = true;
  else if (a === '--bench') opt.bench = true;
  else if (a === '--load-only') opt.loadOnly = true;
  else if (a === '--chromium') opt.chromium = args[++i];
  else if (!report && !a.startsWith('--')) report = a;
  else { console.error('view-test: unknown argument ' + a); process.exit(2); }
}
if (!report) { console.error('usage: node view-test.mjs REPORT.html [--search TEXT] [--zoom NAME] [--shot OUT.png] [--expect-diff] [--bench]'); process.exit(2); }
report = path.resolve(report);

let checks = 0;
function ok(cond, what, detail) {
  if (!cond) {
    console.error('FAIL: ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : ''));
    throw new Error('check failed');
  }
  checks++;
  console.log('ok ' + checks + ' - ' + what + (detail !== undefined ? ' (' + JSON.stringify(detail) + ')' : ''));
}

// The file itself: one page, nothing fetched from anywhere.
const html = fs.readFileSync(report, 'utf8');
const urls = html.match(/\b(?:https?|wss?|ftp):\/\/[^\s"'<>)]*/gi) || [];
ok(urls.length === 0, 'the report contains no URLs', urls.slice(0, 5));
ok(!/<(?:script|img|iframe|link|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*(?:"(?!data:)|'(?!data:)|(?!["']|data:))/i.test(html),
  'no element loads a resource');
ok(/<script type="application\/json" id="fathom-data">/.test(html), 'the profile data is inline');
const dataText = html.slice(html.indexOf('id="fathom-data">') + 17, html.indexOf('</script>', html.indexOf('id="fathom-data">')));
ok(!dataText.includes('<'), 'no "<" inside the inline data');

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fathom-view-'));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: opt.chromium,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let status = 0;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.type() + ': ' + m.text()); });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('request', (r) => { if (r.url() !== 'file://' + report) requests.push(r.url()); });
  // Anything but the page itself would leave the machine: refuse and count it.
  await ctx.route((u) => u.href !== 'file://' + report, (route) => { requests.push(route.request().url()); route.abort(); });

  const t0 = Date.now();
  await page.goto('file://' + report);
  await page.waitForFunction(() => window.fathomViewer && (window.fathomViewer.ready || window.fathomViewer.error),
    null, { timeout: 60000 });
  const wall = Date.now() - t0;
  const st = await page.evaluate(() => ({ error: window.fathomViewer.error || null, stats: window.fathomViewer.stats,
    frames: window.fathomViewer.drawnFrames() }));
  ok(st.error === null, 'the viewer reports no error', st.error);
  // Read here from the file: handing millions of numbers over from the page is slow.
  const data = JSON.parse(dataText);
  const prof = data.profiles[data.profiles.length - 1];
  console.log('# load: navigation to first paint ' + st.stats.firstPaintMs.toFixed(0) + ' ms (script start ' +
    st.stats.scriptStartMs.toFixed(0) + ', JSON parse ' + st.stats.parseMs.toFixed(0) + ', tree build ' +
    st.stats.buildMs.toFixed(0) + ', first draw ' + st.stats.drawMs.toFixed(0) + ' ms); goto to ready ' + wall +
    ' ms (panels filled ' + st.stats.readyMs.toFixed(0) + ' ms); ' + st.stats.nodes + ' call-tree nodes, ' + st.frames + ' frames drawn; ' + (html.length / 1048576).toFixed(1) + ' MiB');
  ok(st.frames > 1, 'the flame graph drew frames', st.frames);
  const titles = await page.evaluate(() => [document.title, document.getElementById('title').textContent]);
  ok(titles[0] === data.title && titles[1] === data.title, 'the page shows the title', titles);

  const zoomInfo = () => page.evaluate(() => {
    const z = document.getElementById('zoom-label');
    return { name: z.dataset.name, node: Number(z.dataset.node), total: Number(z.dataset.total), text: z.textContent };
  });
  const status0 = await zoomInfo();
  ok(status0.name === 'all' && status0.total > 0, 'the graph starts at the root with weight', status0);

  // Search: frames light up and the total is shown.
  const all = status0.total;
  await page.click('.tab[data-tab="hotspots"]');
  let search = opt.search;
  if (!search) {
    // The heaviest function below the root, by its own name.
    search = await page.evaluate(() => document.querySelector('#hotspots tbody tr td').textContent);
  }
  await page.fill('#search', search);
  await page.waitForFunction(() => Number(document.getElementById('search-status').dataset.matches) > 0, null, { timeout: 5000 })
    .catch(() => {});
  const found = await page.evaluate(() => {
    const s = document.getElementById('search-status');
    return { matches: Number(s.dataset.matches), total: Number(s.dataset.total), text: s.textContent,
      lit: window.fathomViewer.highlighted() };
  });
  ok(found.matches > 0, 'search "' + search + '" matches frames', found);
  ok(found.lit > 0, 'matching frames are drawn highlighted', found.lit);
  ok(found.total > 0 && found.total <= all, 'the matches\' total is shown and within the whole', [found.total, all]);
  ok(found.text.includes(String(found.matches)) && /%\)$/.test(found.text), 'the status names the count and share', found.text);
  // Counted again here from the raw data: matching frames, and the total of
  // those without a matching ancestor.
  {
    const metric = await page.evaluate(() => window.fathomViewer.state.metric);
    const n = prof.nodes.up.length;
    const parent = prof.nodes.up.map((u, i) => i - u);
    const total = new Float64Array(n);
    const pairs = prof.weights[metric] || [];
    for (let i = 0, node = -1; i < pairs.length; i += 2) {
      node += pairs[i];
      if (node >= 0) total[node] += pairs[i + 1];
    }
    for (let i = n - 1; i >= 0; i--) if (parent[i] >= 0) total[parent[i]] += total[i];
    const q = search.toLowerCase();
    const hit = (i) => prof.funcs.name[prof.nodes.func[i]].toLowerCase().includes(q);
    const under = new Uint8Array(n);
    let frames = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = parent[i];
      const anc = p >= 0 && (under[p] || hit(p));
      under[i] = anc ? 1 : 0;
      if (hit(i) && total[i] > 0) { frames++; if (!anc) sum += total[i]; }
    }
    ok(frames === found.matches && Math.abs(sum - found.total) <= 1e-9 * sum, 'the count and total match the data', [frames, sum]);
  }
  await page.fill('#search', 'zz-no-such-function-zz');
  await page.waitForFunction(() => document.getElementById('search-status').textContent.startsWith('0 frames'), null, { timeout: 5000 });
  ok(await page.evaluate(() => window.fathomViewer.highlighted()) === 0, 'a search without matches highlights nothing');
  await page.fill('#search', '');
  await page.waitForFunction(() => document.getElementById('search-status').textContent === '', null, { timeout: 5000 });

  if (!opt.loadOnly) await interact();
  async function interact() {
    // Click to zoom: the clicked frame becomes the full-width root of the view.
    let target = opt.zoom;
    if (!target) {
      target = await page.evaluate(() => {
        // The widest child of the root that is narrower than the root.
        const f = window.fathomViewer.flame();
        const r = f.rects;
        let best = -1;
        for (let k = 0; k < r.n; k++) {
          const i = r.node[k];
          if (i >= 0 && f.src.tree.depth[i] >= 1 && r.w[k] < f.width * 0.98 && (best < 0 || r.w[k] > r.w[best])) best = k;
        }
        return best < 0 ? null : f.src.label(r.node[best]);
      });
    }
    ok(target !== null, 'a frame narrower than the whole exists to zoom into', target);
    const before = await page.evaluate((n) => window.fathomViewer.locate(n), target);
    ok(before !== null, 'frame "' + target + '" is on the canvas', before);
    await page.mouse.move(before.x, before.y);
    const tip = await page.evaluate(() => { const t = document.getElementById('tooltip'); return t.hidden ? '' : t.textContent; });
    ok(tip.startsWith(target) && tip.includes('total'), 'hovering shows a tooltip with the frame\'s total', tip.slice(0, 80));
    await page.mouse.click(before.x, before.y);
    const zoomed = await zoomInfo();
    const after = await page.evaluate((n) => window.fathomViewer.locate(n), target);
    const width = await page.evaluate(() => window.fathomViewer.flame().width);
    ok(zoomed.name === target && zoomed.total < all, 'the click zoomed to "' + target + '"', zoomed);
    ok(after.width > before.width && Math.abs(after.width - width) < 1, 'the zoomed frame spans the width',
      [before.width, after.width, width]);
    await page.keyboard.press('Escape');
    ok((await zoomInfo()).name === 'all', 'Esc zooms back out');

    // Icicle: the root moves from the bottom to the top.
    const rootY = () => page.evaluate(() => window.fathomViewer.locate('all').y);
    const yFlame = await rootY();
    await page.click('#mode-icicle');
    const yIcicle = await rootY();
    ok(yIcicle < yFlame, 'icicle puts the root on top', [yFlame, yIcicle]);
    await page.click('#mode-flame');

    // Weight switch.
    const metrics = prof.metrics.map((m) => m.id);
    const cur = await page.evaluate(() => window.fathomViewer.state.metric);
    const next = metrics.find((m) => m !== cur && prof.metrics.find((x) => x.id === m).total > 0);
    ok(metrics.length >= 2 && next, 'the recording offers more than one weight with data', metrics);
    await page.selectOption('#metric', next);
    const switched = await zoomInfo();
    const m2 = prof.metrics.find((x) => x.id === next);
    ok(Math.abs(switched.total - m2.total) < 1e-6 * Math.max(1, m2.total) && switched.text !== status0.text,
      'switching the weight to ' + next + ' shows its total', [switched.text, m2.total]);
    await page.selectOption('#metric', cur);
    ok((await zoomInfo()).total === all, 'switching back restores the view');

    // Thread filter (CPU): one thread's total is its share.
    const threads = prof.threads.filter((t) => t.cpu > 0);
    if (cur === 'cpu' && threads.length > 1) {
      const k = prof.threads.indexOf(threads[0]);
      await page.selectOption('#thread', String(k));
      const one = await zoomInfo();
      ok(one.total === threads[0].cpu && one.total < all, 'the thread filter shows one thread\'s CPU', [one.total, threads[0].cpu, all]);
      await page.selectOption('#thread', '-1');
    }

    // Hotspot table: sorts by any column, both ways; a row click focuses.
    const column = (key) => page.evaluate((k) => {
      const ths = [...document.querySelectorAll('#hotspots thead th')];
      const idx = ths.findIndex((t) => t.dataset.key === k);
      return [...document.querySelectorAll('#hotspots tbody tr')].map((tr) => {
        const td = tr.cells[idx];
        return td.dataset.v !== undefined ? Number(td.dataset.v) : td.textContent;
      });
    }, key);
    const sorted = (a, dir) => a.every((v, i) => i === 0 || (dir < 0 ? a[i - 1] >= v : a[i - 1] <= v));
    // The largest self and total per function in the data's hotspot table
    // (the analyzer's; test-view-hotspots checks it against fathom report).
    const fw = (() => {
      const list = (prof.hotspots || {})[cur] || [];
      let self = 0;
      let total = 0;
      for (let i = 0; i + 2 < list.length; i += 3) {
        self = Math.max(self, list[i + 1]);
        total = Math.max(total, list[i + 2]);
      }
      return { self, total };
    })();
    const selfDesc = await column('self');
    ok(selfDesc.length > 1 && sorted(selfDesc, -1), 'the table starts sorted by self, descending', selfDesc.slice(0, 5));
    ok(selfDesc[0] === fw.self, 'its first row has the largest self weight of the data', [selfDesc[0], fw.self]);
    await page.click('#hotspots th[data-key="total"]');
    const totals = await column('total');
    ok(sorted(totals, -1), 'clicking Total sorts by total, descending', totals.slice(0, 5));
    ok(totals[0] === fw.total, 'its first row is the heaviest function of the data', [totals[0], fw.total]);
    await page.click('#hotspots th[data-key="total"]');
    const totalAsc = await column('total');
    ok(sorted(totalAsc, 1) && totalAsc[0] <= totals[totals.length - 1], 'clicking again sorts ascending', totalAsc.slice(0, 5));
    await page.click('#hotspots th[data-key="name"]');
    const names = await column('name');
    ok(sorted(names, 1), 'clicking Function sorts by name', names.slice(0, 5));
    await page.click('#hotspots th[data-key="total"]');
    const firstRow = await page.evaluate(() => document.querySelector('#hotspots tbody tr td').textContent);
    await page.click('#hotspots tbody tr:first-child');
    const focused = await zoomInfo();
    const fstat = await page.evaluate(() => Number(document.getElementById('search-status').dataset.matches));
    ok(focused.name === firstRow && fstat > 0, 'clicking a row focuses its function in the flame graph', [firstRow, focused.name, fstat]);
    await page.click('#reset');
    ok((await zoomInfo()).name === 'all', 'Reset returns to the root');

    // Memory timeline.
    await page.click('.tab[data-tab="memory"]');
    const tl = await page.evaluate(() => ({ points: Number(document.getElementById('timeline').dataset.points || 0),
      peak: document.getElementById('timeline-peak').textContent, peakX: document.getElementById('timeline').dataset.peakX }));
    if ((prof.timeline || []).length) {
      ok(tl.points > 0, 'the memory timeline plots the ticks', tl.points);
      if (prof.mem.peak_bytes > 0) ok(/peak/.test(tl.peak) && tl.peakX !== '', 'the heap peak is marked', tl.peak);
    } else {
      console.log('# the recording has no timeline');
    }
    await page.click('.tab[data-tab="hotspots"]');

    // Diff view.
    if (opt.expectDiff) {
      ok(data.diff === true && data.profiles.length === 2, 'the report holds two recordings');
      await page.click('.tab[data-tab="diff"]');
      const d = await page.evaluate(() => {
        const rows = [...document.querySelectorAll('#diff-table tbody tr')];
        const f = window.fathomViewer.diffFlame();
        const cols = new Set();
        for (let k = 0; k < f.rects.n; k++) if (f.rects.node[k] >= 0) cols.add(f.src.color(f.rects.node[k]));
        return { rows: rows.length, first: rows.length ? rows[0].cells[0].textContent : null,
          change: rows.length ? rows[0].cells[3].textContent : null, frames: f.rects.n,
          grew: [...cols].some((c) => /^rgb\(245,/.test(c)), shrank: [...cols].some((c) => /,245\)$/.test(c)),
          summary: document.getElementById('diff-summary').textContent };
      });
      ok(d.rows > 0 && d.frames > 1, 'the diff view lists changes and draws the merged tree', d);
      ok(d.grew || d.shrank, 'changed frames are coloured', d);
      const deltas = await page.evaluate(() => [...document.querySelectorAll('#diff-table tbody tr')]
        .map((r) => Number(r.cells[3].dataset.v)));
      ok(sorted(deltas, -1), 'the diff table opens with the biggest regressions (signed change, descending)', deltas.slice(0, 5));
    // The recording selector switches the other views to the base run.
    await page.selectOption('#profile', '0');
    const baseView = await zoomInfo();
    const metricNow = await page.evaluate(() => window.fathomViewer.state.metric);
    const bm = data.profiles[0].metrics.find((x) => x.id === metricNow);
    ok(bm && baseView.total === bm.total, 'the recording selector shows the base run', [baseView.total, bm && bm.total]);
    await page.selectOption('#profile', '1');
    await page.click('.tab[data-tab="diff"]');
    await page.check('#diff-norm');
    const norm = await page.evaluate(() => document.getElementById('diff-summary').textContent);
    ok(/scaled to the new total/.test(norm) && norm.startsWith(d.summary.split(' (')[0]),
      'comparing shares scales the base and keeps the real totals in the summary', norm);
    await page.uncheck('#diff-norm');
      if (opt.bench || process.env.VIEW_SHOT_DIFF) await page.screenshot({ path: (opt.shot || report) + '.diff.png' });
      await page.click('.tab[data-tab="hotspots"]');
    }

  }

  // Screenshot: the flame graph is visible in the picture.
  if (opt.shot) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: opt.shot });
    const png = fs.readFileSync(opt.shot);
    ok(png.length > 20000, 'the screenshot is a real picture', png.length);
    const box = await page.evaluate(() => {
      const b = document.getElementById('flame').getBoundingClientRect();
      return { x: b.left, y: b.top, w: b.width, h: Math.min(b.height, window.innerHeight - b.top) };
    });
    // Decode the PNG in the browser and count warm (flame-coloured) pixels inside the graph.
    const probe = await ctx.newPage();
    const counts = await probe.evaluate(async ({ b64, box }) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(Math.round(box.x), Math.round(box.y), Math.round(box.w), Math.round(box.h)).data;
      let warm = 0, other = 0;
      for (let i = 0; i < d.length; i += 4) {
        const [r, gg, bl] = [d[i], d[i + 1], d[i + 2]];
        if (r > 180 && r > bl + 40 && gg < r) warm++;
        else if (!(r > 245 && gg > 245 && bl > 245)) other++;
      }
      return { warm, other, total: d.length / 4 };
    }, { b64: png.toString('base64'), box });
    await probe.close();
    if (opt.loadOnly) ok(counts.warm + counts.other > counts.total * 0.05, 'the screenshot shows the graph', counts);
    else ok(counts.warm > counts.total * 0.05, 'the screenshot shows the flame graph (warm pixels)', counts);
  }

  ok(errors.length === 0, 'no console errors or warnings', errors);
  ok(requests.length === 0, 'no network requests', requests);
  console.log('# ' + checks + ' checks passed');
  if (opt.bench) console.log('first-paint-ms ' + st.stats.firstPaintMs.toFixed(0) + ' ready-ms ' + wall);
} catch (e) {
  if (e.message !== 'check failed') console.error('FAIL: ' + (e.stack || e));
  status = 1;
} finally {
  await ctx.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(status);
