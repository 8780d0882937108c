// Drives a fathom flame graph SVG in headless chromium: the script must run
// without errors, search must highlight the matches and total their share,
// a click must zoom a frame to the full width, and Reset Zoom must undo it.
//
// usage: node check-flame-svg.mjs FILE.svg SEARCH EXPECTED_PCT TOLERANCE ZOOM_FRAME
// Prints what it measured; exits 1 on failure, 77 when chromium is missing.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}
const [file, term, expectPct, tol, zoomName] = process.argv.slice(2);
if (!zoomName) fail("usage: check-flame-svg.mjs FILE.svg SEARCH EXPECTED_PCT TOLERANCE ZOOM_FRAME");
const chromium = process.env.CHROMIUM || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
if (!chromium) {
  console.log("skip: no chromium");
  process.exit(77);
}
const { chromium: pw } = require("playwright-core");
const b = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
try {
  const page = await b.newPage();
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith("file:")) requests.push(r.url());
  });
  await page.goto(pathToFileURL(resolve(file)).href);
  await page.waitForFunction(() => typeof frames !== "undefined" && frames.length > 0, null, { timeout: 10000 });
  if (errors.length) fail(`script errors: ${errors.join("; ")}`);

  // Search: highlighted frames and the matched total, as the page shows it.
  page.on("dialog", (d) => d.accept(term));
  await page.click("#search");
  const matched = await page.textContent("#matched");
  const m = /Matched: ([0-9.]+)% \((\d+) frames\)/.exec(matched || "");
  if (!m) fail(`no matched total after searching: "${matched}"`);
  const pct = +m[1];
  const lit = await page.$$eval("#frames rect", (rs) => rs.filter((r) => r.getAttribute("fill") === "rgb(230,0,230)").length);
  if (lit !== +m[2] || lit === 0) fail(`${lit} frames highlighted, the page says ${m[2]}`);
  console.log(`ok: search "${term}" matched ${m[2]} frames, ${pct}% (expected ${expectPct} +/- ${tol})`);
  if (Math.abs(pct - +expectPct) > +tol) fail(`matched ${pct}%, expected ${expectPct} +/- ${tol}`);

  // Zoom: click the frame, it must fill the width; frames outside it disappear.
  const width = await page.evaluate(() => W - 2 * XPAD);
  const idx = await page.evaluate((n) => frames.findIndex((f) => f.name === n), zoomName);
  if (idx < 0) fail(`no frame named ${zoomName}`);
  const before = await page.evaluate((i) => +frames[i].r.getAttribute("width"), idx);
  await page.evaluate((i) => frames[i].g.dispatchEvent(new MouseEvent("click", { bubbles: true })), idx);
  const after = await page.evaluate((i) => +frames[i].r.getAttribute("width"), idx);
  const hidden = await page.evaluate(() => frames.filter((f) => f.g.style.display === "none").length);
  const unzoomShown = await page.evaluate(() => !document.getElementById("unzoom").classList.contains("hide"));
  if (Math.abs(after - width) > 0.5) fail(`zoomed ${zoomName} is ${after}px wide, not ${width}`);
  if (!unzoomShown) fail("Reset Zoom is not shown after zooming");
  console.log(`ok: click zoomed ${zoomName} from ${before}px to ${after}px; ${hidden} frames hidden`);
  await page.click("#unzoom");
  const reset = await page.evaluate((i) => +frames[i].r.getAttribute("width"), idx);
  const stillHidden = await page.evaluate(() => frames.filter((f) => f.g.style.display === "none").length);
  if (Math.abs(reset - before) > 0.02 || stillHidden) fail(`reset zoom: width ${reset} (was ${before}), ${stillHidden} hidden`);
  console.log("ok: Reset Zoom restored the graph");

  // Hover: the details line shows the frame's tooltip text.
  await page.hover(`#frames g[data-i="${idx}"] rect`);
  const details = await page.textContent("#details");
  if (!details.startsWith(zoomName)) fail(`details line on hover: "${details}"`);
  console.log(`ok: hover shows "${details}"`);
  if (errors.length) fail(`script errors: ${errors.join("; ")}`);
  if (requests.length) fail(`the SVG fetched ${requests.join(", ")}`);
} finally {
  await b.close();
}
