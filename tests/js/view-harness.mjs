// What the viewer's browser tests share: the numbered checks they print, a
// headless Debian chromium driven by playwright-core, and opening a report.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

// ok(cond, what, detail): prints "ok N - what", or "FAIL: what" and throws.
// ok.count() is the number of checks that held.
export function checker() {
  let n = 0;
  const ok = (cond, what, detail) => {
    const d = detail !== undefined ? JSON.stringify(detail) : undefined;
    if (!cond) {
      console.error('FAIL: ' + what + (d !== undefined ? ': ' + d : ''));
      throw new Error('check failed');
    }
    n++;
    console.log('ok ' + n + ' - ' + what + (d !== undefined ? ' (' + d.slice(0, 300) + ')' : ''));
  };
  ok.count = () => n;
  return ok;
}

// Runs body(ctx) in a fresh chromium profile and exits: 0 when it returned,
// 1 when a check (or anything else) failed.
export async function inBrowser(exe, body) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fathom-view-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: exe, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  let status = 0;
  try {
    await body(ctx);
  } catch (e) {
    if (e.message !== 'check failed') console.error('FAIL: ' + (e.stack || e));
    status = 1;
  } finally {
    await ctx.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  process.exit(status);
}

// A new page on the report, once the viewer is ready; checks that it loaded
// without errors.
export async function openReport(ctx, file, ok) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('file://' + path.resolve(file));
  await page.waitForFunction(() => window.fathomViewer && (window.fathomViewer.ready || window.fathomViewer.error),
    null, { timeout: 60000 });
  const err = await page.evaluate(() => window.fathomViewer.error || null);
  ok(err === null && errors.length === 0, file + ' loads without errors', [err, errors]);
  page.errors = errors;
  return page;
}
