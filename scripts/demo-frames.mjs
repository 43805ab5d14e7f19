// Where the playground's long frames come from: builds the page, starts training in Chromium
// (the test's settings: LSTM 1×64), then measures the longest gap between animation frames in
// back-to-back windows and lists the Long Animation Frame entries (frames > 50 ms) with the
// scripts Chromium attributes them to (progress handler, frame callback, sample refresh …). A long
// frame with no script, or a trivial handler stretched over 100+ ms, is the OS descheduling the
// main thread, not page work. Needs `npm run build`.
//   node scripts/demo-frames.mjs [--windows 6] [--ms 2000]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright';
import { buildDemo } from './build-demo.mjs';
import { serveStatic } from './serve-demo.mjs';

const { values: a } = parseArgs({ options: { windows: { type: 'string', default: '6' }, ms: { type: 'string', default: '2000' } } });
const server = await serveStatic((await buildDemo(join(mkdtempSync(join(tmpdir(), 'rnnw-frames-')), 'site'))).dir);
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args });
try {
  const page = await browser.newPage({ viewport: { width: 1240, height: 1000 } });
  await page.goto(server.url);
  await page.waitForSelector('#panels[data-ready=true]');
  await page.evaluate(() => {
    window.loafs = [];
    new PerformanceObserver((l) => window.loafs.push(...l.getEntries().map((e) => ({ start: e.startTime, duration: e.duration, scripts: e.scripts.map((s) => `${s.invoker} ${Math.round(s.duration)} ms`) })))).observe({ type: 'long-animation-frame' });
  });
  await page.fill('#hidden', '64');
  await page.fill('#lr', '0.01');
  await page.click('#train');
  await page.waitForFunction(() => Number(document.getElementById('step').textContent) >= 1);
  const t0 = await page.evaluate(() => performance.now());
  for (let w = 0; w < Number(a.windows); w++) {
    const r = await page.evaluate((ms) => new Promise((resolve) => {
      const c0 = window.playground.counts();
      let last = -1, first = -1, worst = 0, frames = 0;
      const f = (t) => {
        if (last >= 0) (worst = Math.max(worst, t - last)), frames++;
        else first = t;
        last = t;
        if (t - first < ms) return void requestAnimationFrame(f);
        const c1 = window.playground.counts();
        resolve({ worst, frames, progress: c1.progress - c0.progress, samples: c1.samples - c0.samples });
      };
      requestAnimationFrame(f);
    }), Number(a.ms));
    console.log(`window ${w + 1}: longest gap ${Math.round(r.worst)} ms, ${r.frames} frames, ${r.progress} progress updates, ${r.samples} samples`);
  }
  const loafs = await page.evaluate((t) => window.loafs.filter((e) => e.start >= t), t0);
  console.log(`${loafs.length} long animation frames while training:`);
  for (const e of loafs) console.log(`  at ${Math.round(e.start - t0)} ms: ${Math.round(e.duration)} ms; scripts: ${e.scripts.join(', ') || 'none'}`);
} finally {
  await browser.close();
  await server.close();
}
