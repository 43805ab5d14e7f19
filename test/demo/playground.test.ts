// End to end in Debian's Chromium (playwright): the built playground (dist-demo/, served as plain
// static files, not cross-origin isolated) trains a CharLM in a Web Worker while the page stays
// responsive; the loss it displays falls; text and the hidden-state heatmap appear; a model it
// saves loads in Node with identical outputs, and one trained by the CLI loads in the page; the
// pre-trained panels (names → gender, G2P with attention) give what Node gives with the same files;
// the page and the worker load the library chunk they share and the one binary init picks, once.
// The screenshot is kept in test-artifacts/playground.png (git-ignored).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { init, CharLM, SequenceClassifier, Seq2Seq } from '../../dist/index.js';
// @ts-expect-error plain .mjs scripts without types
import { buildDemo } from '../../scripts/build-demo.mjs';
// @ts-expect-error plain .mjs scripts without types
import { serveStatic } from '../../scripts/serve-demo.mjs';
import { binaryChunk, chunkGraph, staticClosure, type ChunkGraph } from '../../scripts/bundle-figures.mjs';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const MODELS = join(import.meta.dirname, '../../demo/models');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
let server: { url: string; served: string[]; close: () => Promise<void> };
let graph: ChunkGraph;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  await init();
  const { dir, metafile } = await buildDemo(join(mkdtempSync(join(tmpdir(), 'rnnw-demo-')), 'site'));
  graph = chunkGraph(metafile);
  server = await serveStatic(dir);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
  page = await browser.newPage({ viewport: { width: 1240, height: 1000 }, acceptDownloads: true });
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(server.url);
  await page.waitForSelector('body[data-state=idle]');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// innerText is the rendered text (whitespace may be normalised); compare model outputs with textContent
const text = (id: string) => page.locator(`#${id}`).innerText();
const num = async (id: string) => Number((await text(id)).replace(/,/g, ''));

type Playground = { playground: { counts(): { progress: number; samples: number; sampling: boolean }; panels: { names: { input: string; probabilities: number[] } | null; g2p: { input: string; phonemes: string[]; attention: number[][] } | null } } };

/**
 * The responsiveness check while the worker trains: the longest gap between animation
 * frames over a 2 s window must be under 100 ms, in a window that includes at least one sample
 * refresh with its two heatmaps (the page's costliest update) and four progress updates (chart
 * and figures). The suite's machine is shared (its load is often 10× its 2 cores), and the OS
 * then deschedules Chromium's main thread for 100+ ms with no page work running (Long Animation
 * Frame entries with no script, or one trivial handler stretched over 100+ ms); so a window may be
 * measured again, up to 30 times (a minute, back to back), but the window accepted must meet the
 * criterion in full: there is no looser bound.
 */
async function responsiveWindow(): Promise<{ worst: number; frames: number; progress: number; samples: number; attempt: number; rejected: number[] }> {
  const rejected: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const w = await page.evaluate(
      () =>
        new Promise<{ worst: number; frames: number; progress: number; samples: number }>((resolve) => {
          const counts = () => (window as unknown as Playground).playground.counts();
          const c0 = counts();
          let last = -1, worst = 0, t0 = -1, frames = 0;
          const f = (t: number) => {
            if (last >= 0) (worst = Math.max(worst, t - last)), frames++;
            else t0 = t;
            last = t;
            if (t - t0 < 2000) return void requestAnimationFrame(f);
            const c1 = counts();
            resolve({ worst, frames, progress: c1.progress - c0.progress, samples: c1.samples - c0.samples });
          };
          requestAnimationFrame(f);
        }),
    );
    if ((w.worst < 100 && w.samples >= 1 && w.progress >= 4) || attempt === 30) return { ...w, attempt, rejected };
    rejected.push(w.worst);
  }
}

describe('the playground page in Chromium', () => {
  it('trains in a worker without SharedArrayBuffer: the loss falls, text appears, frames keep coming', async () => {
    expect(await page.evaluate(() => [typeof SharedArrayBuffer, crossOriginIsolated])).toEqual(['undefined', false]);
    expect(await page.locator('#corpus option').count()).toBe(4);
    await page.fill('#hidden', '64');
    await page.fill('#lr', '0.01');
    await page.click('#train');
    await page.waitForSelector('body[data-state=training]');
    await page.waitForFunction(() => Number(document.getElementById('step')!.textContent) >= 1);
    const first = await num('bpc');
    const win = await responsiveWindow();
    expect(await page.getAttribute('body', 'data-state')).toBe('training');
    await page.waitForFunction(() => Number(document.getElementById('step')!.textContent) >= 250, null, { timeout: 120_000 });
    const later = await num('bpc');
    await page.waitForFunction(() => document.getElementById('sample')!.textContent!.length > 0);
    await page.click('#stop');
    await page.waitForSelector('body[data-state=stopped]');
    console.log(`playground: first displayed loss ${first.toFixed(3)} bits/char, at step ≥250 ${later.toFixed(3)}; longest frame gap ${win.worst.toFixed(0)} ms over ${win.frames} frames, ${win.progress} progress updates and ${win.samples} sample(s) in the accepted 2 s window (attempt ${win.attempt}; earlier windows' worst: ${win.rejected.map((g) => g.toFixed(0)).join(', ') || 'none'} ms); ${await text('cps')} chars/s; ${await text('variant')}`);
    expect(first).toBeGreaterThan(4); // log2 of a vocabulary of ~60 characters ≈ 6
    expect(later).toBeLessThan(first - 1);
    expect(win.worst).toBeLessThan(100);
    expect(win.frames).toBeGreaterThan(20);
    expect(win.progress).toBeGreaterThanOrEqual(4);
    expect(win.samples).toBeGreaterThanOrEqual(1);
    expect(await text('variant')).toMatch(/^(relaxed SIMD|SIMD)$/);
    expect(await num('cps')).toBeGreaterThan(0);
    expect(await text('train')).toBe('Resume');
    // heatmap over the sample (once the sample taken after stopping is drawn): 24 units × its
    // characters, and the sample coloured by a unit
    await page.waitForFunction(() => !(window as unknown as Playground).playground.counts().sampling);
    const sample = (await page.locator('#sample').textContent()) ?? '';
    expect(sample.length).toBeGreaterThan(100);
    expect(await page.locator('#unit-text').getAttribute('data-text')).toBe(sample);
    expect(await page.locator('#heatmap').getAttribute('data-units')).toBe('24');
    expect(Number(await page.locator('#heatmap').getAttribute('data-chars'))).toBe(Math.min(140, [...sample].length));
    expect(Number(await page.locator('#unit-text').getAttribute('data-chars'))).toBe([...sample].length);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'playground.png'), fullPage: true });
  }, 300_000);

  it('page and worker load their shared library chunk and the binary init picked, each once, and no other binary', async () => {
    // by now the worker (training) has run init(), and the page has for its panels
    await page.waitForSelector('#panels[data-ready=true]');
    expect(await text('variant')).toBe('relaxed SIMD');
    const entries = ['main.js', 'worker.js'];
    const expected = [...staticClosure(graph, entries), binaryChunk(graph, 'relaxed')];
    expect(expected.filter((f) => !entries.includes(f)).length).toBe(2); // the shared library chunk and the binary
    const scripts = server.served.filter((p) => p.endsWith('.js')).map((p) => p.slice(1));
    expect(scripts.sort()).toEqual(expected.sort());
  });

  it('a model downloaded from the page loads in Node with identical outputs; IndexedDB round trip', async () => {
    await page.fill('#prompt', 'The ');
    await page.click('#complete');
    await page.waitForFunction(() => document.getElementById('completion')!.textContent!.length > 0);
    const shown = (await page.locator('#completion').textContent()) ?? '';
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const bytes = readFileSync((await download.path())!);
    const lm = CharLM.deserialize(bytes);
    const temperature = Number(await page.inputValue('#temperature'));
    expect(lm.complete('The ', { maxLength: 120, temperature, seed: 0 })).toBe(shown);
    const probe = 'Gentlemen of the Senate and House of Representatives';
    const inPage = await page.evaluate((t) => (window as unknown as { playground: { worker: { bitsPerChar(t: string): Promise<number> } } }).playground.worker.bitsPerChar(t), probe);
    expect(inPage).toBe(lm.bitsPerChar(probe));
    const step = lm.step;
    lm.dispose();

    await page.click('#save-idb');
    await page.waitForFunction(() => /Saved in this browser/.test(document.getElementById('status')!.textContent!));
    await page.click('#reset');
    await page.click('#load-idb');
    await page.waitForFunction(() => /Loaded from this browser/.test(document.getElementById('status')!.textContent!));
    expect(await num('step')).toBe(step);
  });

  it('the static server serves the built folder and nothing outside it', async () => {
    const get = (path: string) => fetch(server.url + path).then((r) => r.status);
    expect(await get('corpora.json')).toBe(200);
    expect(await get('no-such-file.js')).toBe(404);
    expect(await get('..%2f..%2fpackage.json')).toBe(403);
  });

  it('the pre-trained panels give what Node gives with the same model files, and update as the user types', async () => {
    await page.waitForSelector('#panels[data-ready=true]');
    const clf = SequenceClassifier.deserialize(readFileSync(join(MODELS, 'names.rnnw')));
    const g2p = Seq2Seq.deserialize(readFileSync(join(MODELS, 'g2p.rnnw')));
    const shown = () => page.evaluate(() => (window as unknown as Playground).playground.panels);
    // names → gender: the page lower-cases and trims what is typed, as the training names were
    for (const typed of ['Maria', 'john', ' Alexis ', 'Zoë']) {
      await page.fill('#name', typed);
      const p = (await shown()).names!;
      const want = Array.from(clf.predict([typed.trim().toLowerCase()])[0]);
      expect(p).toEqual({ input: typed.trim().toLowerCase(), labels: ['female', 'male'], probabilities: want });
      expect(await text('name-female')).toBe(`female ${(100 * want[0]).toFixed(1)} %`);
      if (typed === 'Maria') expect(want[0]).toBeGreaterThan(0.9); // and the model is not a coin: a clear case
    }
    // grapheme → phoneme with attention: the page keeps letters and apostrophes, lower-cased
    for (const typed of ['playground', 'Knight', "o'clock", 'wasm']) {
      await page.fill('#word', typed);
      const got = (await shown()).g2p!;
      const [t] = g2p.translate([typed.toLowerCase()]);
      expect(got).toEqual({ input: typed.toLowerCase(), phonemes: t.tokens, attention: t.attention });
      expect(await text('phonemes')).toBe(t.tokens.join(' '));
      // one heatmap row per phoneme and the end mark, one column per letter; each row sums to 1
      expect([await page.getAttribute('#attention', 'data-rows'), await page.getAttribute('#attention', 'data-cols')]).toEqual([String(t.tokens.length + 1), String(typed.length)]);
      for (const row of got.attention) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    // typing key by key refreshes both panels at every keystroke
    await page.fill('#name', '');
    expect((await shown()).names).toBeNull();
    await page.locator('#name').pressSequentially('Rob');
    expect((await shown()).names!.input).toBe('rob');
    await page.fill('#word', '');
    await page.locator('#word').pressSequentially('cat');
    const cat = (await shown()).g2p!;
    expect(cat.phonemes).toEqual(g2p.translate(['cat'])[0].tokens);
    expect(cat.phonemes.length).toBeGreaterThan(0);
    clf.dispose();
    g2p.dispose();
  });

  it('the cell list offers every registered cell; a minGRU model from the CLI loads as one and completes as in Node', async () => {
    expect(await page.locator('#cell option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['lstm', 'gru', 'rnn', 'mingru', 'minlstm']);
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-cli-'));
    writeFileSync(join(dir, 'c.txt'), 'the quick brown fox jumps over the lazy dog.\n'.repeat(30));
    const out = join(dir, 'min.rnnw');
    execFileSync(process.execPath, [join(import.meta.dirname, '../../dist/cli.js'), 'train-lm', '--corpus', join(dir, 'c.txt'), '--cell', 'mingru', '--hidden', '32', '--embedding', '8', '--seq-len', '16', '--batch', '8', '--steps', '20', '--lr', '0.02', '--validation', '0', '--quiet', '--out', out], { stdio: 'pipe' });
    await page.setInputFiles('#model-file', out);
    await page.waitForFunction(() => /Loaded min\.rnnw/.test(document.getElementById('status')!.textContent!));
    expect(await page.inputValue('#cell')).toBe('mingru');
    await page.fill('#prompt', 'the qu');
    await page.click('#complete');
    await page.waitForFunction(() => document.getElementById('completion')!.textContent!.length > 0);
    const lm = await CharLM.load(out);
    const temperature = Number(await page.inputValue('#temperature'));
    expect(await page.locator('#completion').textContent()).toBe(lm.complete('the qu', { maxLength: 120, temperature, seed: 0 }));
    lm.dispose();
    expect(problems).toEqual([]);
  });

  it('a model trained by the CLI loads in the page and completes as in Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-cli-'));
    writeFileSync(join(dir, 'c.txt'), 'the quick brown fox jumps over the lazy dog.\n'.repeat(30));
    const out = join(dir, 'cli.rnnw');
    execFileSync(process.execPath, [join(import.meta.dirname, '../../dist/cli.js'), 'train-lm', '--corpus', join(dir, 'c.txt'), '--cell', 'gru', '--hidden', '32', '--embedding', '8', '--seq-len', '16', '--batch', '8', '--steps', '40', '--lr', '0.02', '--validation', '0', '--quiet', '--out', out], { stdio: 'pipe' });
    await page.setInputFiles('#model-file', out);
    await page.waitForFunction(() => /Loaded cli\.rnnw/.test(document.getElementById('status')!.textContent!));
    expect(await page.inputValue('#cell')).toBe('gru');
    expect(await num('step')).toBe(40);
    await page.fill('#prompt', 'the qu');
    await page.click('#complete');
    await page.waitForFunction(() => document.getElementById('completion')!.textContent!.length > 0);
    const lm = await CharLM.load(out);
    const temperature = Number(await page.inputValue('#temperature'));
    expect(await page.locator('#completion').textContent()).toBe(lm.complete('the qu', { maxLength: 120, temperature, seed: 0 }));
    lm.dispose();
    expect(problems).toEqual([]);
  });
});
