// Checks a speedscope export with speedscope itself: the JSON must validate
// against speedscope's published file-format schema, hold together (frame
// indices, weights, endValue), and, with --browser, load in speedscope's own
// importer running in headless chromium.
//
// usage: node check-speedscope.mjs FILE.json [--browser] [--expect-frame NAME]...
// Prints one line per fact checked; exits 1 on the first failure, 77 when a
// needed tool (chromium) is missing.
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const Ajv = require("ajv");
const release = join(here, "node_modules/speedscope/dist/release");

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--") && !args[args.indexOf(a) - 1]?.startsWith("--expect"));
if (!file) fail("usage: check-speedscope.mjs FILE.json [--browser] [--expect-frame NAME]...");
const browser = args.includes("--browser");
const expectFrames = args.flatMap((a, i) => (a === "--expect-frame" ? [args[i + 1]] : []));

const text = readFileSync(file, "utf8");
let doc;
try {
  doc = JSON.parse(text);
} catch (e) {
  fail(`${file}: not JSON: ${e.message}`);
}

// 1. The published schema.
const schema = JSON.parse(readFileSync(join(release, "file-format-schema.json"), "utf8"));
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
if (!validate(doc)) fail(`${file}: schema: ${ajv.errorsText(validate.errors, { separator: "; " }).slice(0, 2000)}`);
console.log(`ok: ${file} validates against speedscope's file-format-schema.json`);

// 2. What the schema cannot say.
if (doc.$schema !== "https://www.speedscope.app/file-format-schema.json") fail(`$schema is ${doc.$schema}`);
const nframes = doc.shared.frames.length;
if (doc.profiles.length === 0) fail("no profiles");
for (const p of doc.profiles) {
  if (p.type !== "sampled") fail(`profile ${p.name}: type ${p.type}`);
  if (p.samples.length !== p.weights.length)
    fail(`profile ${p.name}: ${p.samples.length} samples but ${p.weights.length} weights`);
  let sum = 0;
  for (const s of p.samples) {
    if (s.length === 0) fail(`profile ${p.name}: an empty stack`);
    for (const f of s) if (!Number.isInteger(f) || f < 0 || f >= nframes) fail(`profile ${p.name}: frame index ${f}`);
  }
  for (const w of p.weights) {
    if (!(w > 0)) fail(`profile ${p.name}: weight ${w}`);
    sum += w;
  }
  if (p.endValue - p.startValue !== sum) fail(`profile ${p.name}: endValue ${p.endValue} but weights sum to ${sum}`);
  console.log(`ok: profile "${p.name}" (${p.unit}): ${p.samples.length} stacks, total ${sum}`);
}
for (const name of expectFrames) {
  const idx = doc.shared.frames.findIndex((f) => f.name === name);
  if (idx < 0) fail(`no frame named ${name}`);
  const used = doc.profiles[0].samples.some((s) => s.includes(idx));
  if (!used) fail(`frame ${name} is in no stack of the first profile`);
  console.log(`ok: frame ${name} is there and used`);
}

// 3. speedscope's own importer, in the page it ships: it only titles the page
// with the profile's name after a successful import, and alerts on failure.
if (browser) {
  const chromium = process.env.CHROMIUM || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
  if (!chromium) {
    console.log("skip: no chromium for the browser check");
    process.exit(77);
  }
  const { chromium: pw } = require("playwright-core");
  const b = await pw.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox"] });
  try {
    const page = await b.newPage();
    const problems = [];
    page.on("dialog", async (d) => {
      problems.push(`dialog: ${d.message()}`);
      await d.dismiss();
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(join(release, "index.html")).href);
    await page.setInputFiles("#file", resolve(file));
    const want = `${doc.name} - speedscope`;
    try {
      await page.waitForFunction((t) => document.title === t, want, { timeout: 20000 });
    } catch (e) {
      fail(`speedscope did not load ${file}: title "${await page.title()}"; ${problems.join("; ")}`);
    }
    if (problems.length) fail(`speedscope: ${problems.join("; ")}`);
    // The toolbar names the active profile and how many there are ("name (1/3)").
    const body = await page.evaluate(() => document.body.innerText);
    const count = doc.profiles.length;
    if (count > 1 && !body.includes(`1/${count}`)) fail(`speedscope shows no "1/${count}" profile selector`);
    const canvases = await page.evaluate(() => document.querySelectorAll("canvas").length);
    if (!canvases) fail("speedscope drew no canvas");
    console.log(`ok: speedscope's importer loaded ${file} in chromium (title "${want}", ${count} profiles)`);
  } finally {
    await b.close();
  }
}
