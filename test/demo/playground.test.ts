// End to end in Debian's Chromium (playwright): the built playground (dist-demo/, served as plain
// static files, not cross-origin isolated) trains a CharLM in a Web Worker while the page stays
// responsive; the loss it displays falls; text and the hidden-state heatmap appear; a model it
// saves loads in Node with identical outputs, and one trained by the CLI loads in the page; the
// pre-trained panels (names → gender, G2P with attention) give what Node gives with the same files;
// the page and the worker load the library chunk they share and the one binary init picks, once.
// The page's own features are checked as a user meets them: presets fill the settings and every
// setting explains itself; settings lock while training and stay locked where a checkpoint keeps
// its own; the status line shows the real step / total; the chart has a validation series (the
// held-out tail, scored in the worker) beside training, with legends and axis titles on it and on
// both heatmaps; the next-character bars give the probabilities Node computes from the same model
// file; "New model" clears the curves; at 360 and 420 px nothing is wider than the viewport.
// RWKV-7 is a cell of the page too: it trains in the same worker for a few chart points, samples,
// draws its heatmap and next-character bars, and its downloaded file reads in Node with the same
// step, settings, completion and probabilities.
// Screenshots are kept in test-artifacts/ (git-ignored): playground.png, playground-360.png, -420.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { init, CharLM, SequenceClassifier, Seq2Seq, importRwkv7, completeRwkv7 } from '../../dist/index.js';
// @ts-expect-error plain .mjs scripts without types
import { buildDemo } from '../../scripts/build-demo.mjs';
// @ts-expect-error plain .mjs scripts without types
import { serveStatic } from '../../scripts/serve-demo.mjs';
import { binaryChunk, chunkGraph, staticClosure, type ChunkGraph } from '../../scripts/bundle-figures.mjs';
import { FIELDS, PRESETS } from '../../demo/settings';
import { CELL_KINDS } from '../../src/layers/cells';
import { SERIES } from '../../demo/chart';
import { nextCharDistribution, TOP_K, type Distribution } from '../../demo/nextchar';

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

type Playground = { playground: { counts(): { progress: number; samples: number; sampling: boolean }; chart(): { train: [number, number][]; valid: [number, number][] }; next(): Distribution | null; panels: { names: { input: string; probabilities: number[] } | null; g2p: { input: string; phonemes: string[]; attention: number[][] } | null } } };
const chartData = () => page.evaluate(() => (window as unknown as Playground).playground.chart());
const shownNext = () => page.evaluate(() => (window as unknown as Playground).playground.next());
/** The setting fields (and preset buttons) that are disabled, by id. */
const disabled = () => page.evaluate((ids) => ids.filter((id) => (document.getElementById(id) as HTMLInputElement).disabled), [...FIELDS.map((f) => f.id), ...PRESETS.map((p) => `preset-${p.name}`)]);
const ARCHITECTURE_AND_TRAINING = FIELDS.filter((f) => f.kind !== 'run').map((f) => f.id);
const PRESET_IDS = PRESETS.map((p) => `preset-${p.name}`);
const TEST_STEPS = 5000; // more than the test waits for: it stops the run itself

/**
 * The issue's responsiveness check while the worker trains: the longest gap between animation
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
  it('presets fill every setting; each setting shows a one-line explanation; nothing is locked before a model exists', async () => {
    expect(await disabled()).toEqual([]);
    const values = () => page.evaluate((ids) => ids.map((id) => (document.getElementById(id) as HTMLInputElement).value), FIELDS.map((f) => f.id));
    const seen = new Set<string>();
    for (const p of PRESETS) {
      await page.click(`#preset-${p.name}`);
      const want = FIELDS.map((f) => String(p.settings[f.id as keyof typeof p.settings]));
      expect(await values(), p.name).toEqual(want);
      expect(await page.getAttribute(`#preset-${p.name}`, 'aria-pressed')).toBe('true');
      expect(await text('preset-about')).toBe(`${p.name}: ${p.about}`);
      seen.add(want.join());
    }
    expect(seen.size).toBe(3); // three different presets
    expect(PRESETS.find((p) => p.name === 'deep')!.settings.layers).toBeGreaterThan(1);
    for (const f of FIELDS) {
      const hint = page.locator(`#hint-${f.id}`);
      expect(await hint.isVisible(), f.id).toBe(true);
      expect(await hint.innerText(), f.id).toBe(f.hint);
      expect(await page.getAttribute(`#${f.id}`, 'title'), f.id).toBe(f.hint);
      expect(f.hint.length).toBeLessThan(120); // one line
    }
  });

  it('trains in a worker without SharedArrayBuffer: the loss falls, text appears, frames keep coming; settings lock; the status shows the real step', async () => {
    expect(await page.evaluate(() => [typeof SharedArrayBuffer, crossOriginIsolated])).toEqual(['undefined', false]);
    expect(await page.locator('#corpus option').count()).toBe(4);
    await page.click('#preset-tiny');
    await page.fill('#steps', String(TEST_STEPS));
    await page.click('#train');
    await page.waitForSelector('body[data-state=training]');
    await page.waitForFunction(() => Number(document.getElementById('step')!.textContent) >= 1);
    const first = await num('bpc');
    // every setting and preset is locked while training
    expect((await disabled()).sort()).toEqual([...FIELDS.map((f) => f.id), ...PRESET_IDS].sort());
    // the status line: the real step of this run out of its total, and the loss
    await page.waitForFunction(() => /step [1-9]\d* \/ /.test(document.getElementById('status')!.textContent!));
    const status = await text('status');
    const m = /step (\d+) \/ (\d+), ([\d.]+) bits\/char/.exec(status);
    expect(m, status).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBe(TEST_STEPS);
    expect(Number.isFinite(Number(m![3]))).toBe(true);
    expect(status).not.toMatch(/step 0\b/);
    const win = await responsiveWindow();
    expect(await page.getAttribute('body', 'data-state')).toBe('training');
    await page.waitForFunction(() => Number(document.getElementById('step')!.textContent) >= 250, null, { timeout: 120_000 });
    const later = await num('bpc');
    await page.waitForFunction(() => document.getElementById('sample')!.textContent!.length > 0);
    // validation mid-run: scored at step 0 and at least once since
    await page.waitForFunction(() => (window as unknown as Playground).playground.chart().valid.some(([s]) => s > 0));
    // progress messages are throttled in time: on a loaded machine 250 steps may bring fewer than 11 points
    await page.waitForFunction(() => (window as unknown as Playground).playground.chart().train.length > 10, null, { timeout: 120_000 });
    await page.click('#stop');
    await page.waitForSelector('body[data-state=stopped]');
    const stopped = await text('status');
    const finalStep = await num('step');
    expect(stopped).toContain(`Stopped at step ${finalStep} / ${TEST_STEPS}`);
    // a trained model keeps its architecture and training settings (a resumed run continues the
    // same way), so those fields stay locked and show the model's values; the step budget applies
    expect((await disabled()).sort()).toEqual([...ARCHITECTURE_AND_TRAINING, ...PRESET_IDS].sort());
    const tiny = PRESETS.find((p) => p.name === 'tiny')!.settings;
    for (const id of ARCHITECTURE_AND_TRAINING) expect(await page.inputValue(`#${id}`), id).toBe(String(tiny[id as keyof typeof tiny]));
    expect(await text('settings-note')).toMatch(/New model/);
    // two series: training at every progress message, validation at step 0, mid-run and at the stop
    const { train: tr, valid } = await chartData();
    expect(tr.length).toBeGreaterThan(10);
    expect(valid.length).toBeGreaterThanOrEqual(3);
    expect(valid[0][0]).toBe(0);
    expect(valid.at(-1)![0]).toBe(finalStep);
    for (const [s, v] of [...tr, ...valid]) expect(Number.isFinite(s) && Number.isFinite(v) && v > 0).toBe(true);
    for (let i = 1; i < valid.length; i++) expect(valid[i][0]).toBeGreaterThanOrEqual(valid[i - 1][0]);
    expect(valid.at(-1)![1]).toBeLessThan(valid[0][1] - 1); // it learns the language, not only the training text
    expect(await num('valid-bpc')).toBeCloseTo(valid.at(-1)![1], 3);
    expect(stopped).toContain(`${valid.at(-1)![1].toFixed(3)} on the held-out text`);
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

  it('the chart and both heatmaps carry axis titles and legends; both series are drawn in their legend colours', async () => {
    const labels = async (id: string) => ((await page.getAttribute(`#${id}`, 'data-labels')) ?? '').split('|');
    expect(await labels('chart')).toEqual(expect.arrayContaining(['training step', 'bits/char', '0']));
    expect(await labels('heatmap')).toEqual(expect.arrayContaining(['hidden unit', 'character of the sample →', '0', '23']));
    await page.waitForSelector('#panels[data-ready=true]');
    expect(await labels('attention')).toEqual(expect.arrayContaining(['letters read →', 'phonemes produced →']));
    expect(await text('chart-legend')).toMatch(/training.*\n.*validation/s);
    expect(await text('heatmap-legend')).toMatch(/−1\s*\+1\s*value of the hidden unit/);
    expect(await text('attention-legend')).toMatch(/0\s*1\s*attention weight/);
    // the swatches are the series' colours, and the canvas holds pixels of each colour
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    for (const [name, s] of Object.entries(SERIES)) {
      expect(await page.$eval(`#swatch-${name}`, (e) => getComputedStyle(e).backgroundColor)).toBe(`rgb(${rgb(s.colour).join(', ')})`);
      const pixels = await page.$eval('#chart', (c, want) => {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - want[0]) + Math.abs(d[i + 1] - want[1]) + Math.abs(d[i + 2] - want[2]) < 30 && d[i + 3] > 200) n++;
        return n;
      }, rgb(s.colour));
      expect(pixels, name).toBeGreaterThan(20);
    }
  });

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

    // the next-character bars: the same probabilities Node computes from the downloaded file,
    // refreshed at every keystroke
    await page.fill('#prompt', '');
    await page.locator('#prompt').pressSequentially('the Senat');
    for (const prompt of ['the Senat', 'the Senate and House of ', '']) {
      if (prompt !== 'the Senat') await page.fill('#prompt', prompt);
      const d = (await shownNext())!;
      expect(d.prompt).toBe(prompt);
      // the same file and binary give the same logits; the f64 softmax may differ in the last bit
      // (Chromium's and Node's V8 each have their own Math.exp)
      const node = nextCharDistribution(lm, prompt);
      expect(d.tokens).toEqual(node.tokens);
      d.probabilities.forEach((p, i) => expect(Math.abs(p - node.probabilities[i])).toBeLessThanOrEqual(1e-15));
      expect(d.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      // bars: the TOP_K most probable characters in order, then the rest; together 1
      const bars = await page.locator('#next-chars li').evaluateAll((ls) => ls.map((l) => ({ char: (l as HTMLElement).dataset.char!, p: Number((l as HTMLElement).dataset.p), text: l.textContent })));
      expect(bars).toHaveLength(TOP_K + 1);
      expect(bars.reduce((a, b) => a + b.p, 0)).toBeCloseTo(1, 9);
      const order = d.probabilities.map((p, i) => [p, d.tokens[i]] as const).sort((a, b) => b[0] - a[0]);
      expect(bars.slice(0, TOP_K).map((b) => [b.p, b.char])).toEqual(order.slice(0, TOP_K).map(([p, c]) => [p, c]));
      expect(bars[0].text).toContain(`${(100 * order[0][0]).toFixed(1)} %`);
      // and by another road: -log2 p(c | prompt) is the rise in total bits when c follows the prompt
      const read = prompt || '\n';
      const total = (t: string) => (t.length < 2 ? 0 : lm.bitsPerChar(t) * (t.length - 1));
      for (const [p, c] of order.slice(0, 3)) expect(2 ** -(total(read + c) - total(read)), JSON.stringify(c)).toBeCloseTo(p, 4);
    }
    await page.fill('#prompt', 'the Senat');
    expect(Math.max(...(await shownNext())!.probabilities)).toBeGreaterThan(0.15); // trained: far from uniform over ~60 characters
    const step = lm.step;
    lm.dispose();

    await page.click('#save-idb');
    await page.waitForFunction(() => /Saved in this browser/.test(document.getElementById('status')!.textContent!));
    // New model: curves, bars and the sample cleared; every setting editable again
    await page.click('#reset');
    expect(await chartData()).toEqual({ train: [], valid: [] });
    expect(await page.locator('#next-chars li').count()).toBe(0);
    expect(await shownNext()).toBeNull();
    expect(await page.locator('#sample').textContent()).toBe('');
    expect(await disabled()).toEqual([]);
    await page.click('#load-idb');
    await page.waitForFunction(() => /Loaded from this browser/.test(document.getElementById('status')!.textContent!));
    expect(await num('step')).toBe(step);
    // the loaded checkpoint brings its settings back, shown and locked
    expect(await page.inputValue('#lr')).toBe(String(PRESETS[0].settings.lr));
    expect((await disabled()).sort()).toEqual([...ARCHITECTURE_AND_TRAINING, ...PRESET_IDS].sort());
    // and the bars come back for the prompt in the box
    expect((await shownNext())!.prompt).toBe('the Senat');
    expect(await page.locator('#next-chars li').count()).toBe(TOP_K + 1);
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
    // the library's cell registry (what CharLM's cell option accepts), in its order
    expect(await page.locator('#cell option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([...CELL_KINDS, 'rwkv7']);
    expect(CELL_KINDS).toEqual(['lstm', 'gru', 'rnn', 'mingru', 'minlstm']);
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

  it('RWKV-7 as a cell: trains in the worker for a few points, samples, draws bars and a heatmap; its download reads in Node the same', async () => {
    await page.click('#reset');
    await page.click('#preset-tiny');
    await page.selectOption('#cell', 'rwkv7');
    await page.fill('#hidden', '32');
    await page.fill('#steps', String(TEST_STEPS));
    await page.click('#train');
    await page.waitForSelector('body[data-state=training]');
    // a few points of the training curve, then stop
    await page.waitForFunction(() => (window as unknown as Playground).playground.chart().train.length > 4, null, { timeout: 120_000 });
    await page.click('#stop');
    await page.waitForSelector('body[data-state=stopped]');
    const finalStep = await num('step');
    const status = await text('status');
    expect(status).toContain(`Stopped at step ${finalStep} / ${TEST_STEPS} (RWKV-7 1×32,`);
    const { train: tr, valid } = await chartData();
    expect(tr.length).toBeGreaterThan(4);
    for (const [st, v] of [...tr, ...valid]) expect(Number.isFinite(st) && Number.isFinite(v) && v > 0).toBe(true);
    expect(valid[0][0]).toBe(0);
    expect(valid.at(-1)![0]).toBe(finalStep);
    expect(valid.at(-1)![1]).toBeLessThan(valid[0][1]); // it learns
    expect(await text('params')).not.toBe('–');
    // the sample taken after stopping, and its heatmap (24 of the 32 channels)
    await page.waitForFunction(() => !(window as unknown as Playground).playground.counts().sampling && document.getElementById('sample')!.textContent!.length > 0);
    const sample = (await page.locator('#sample').textContent()) ?? '';
    expect([...sample].length).toBe(240);
    expect(await page.locator('#unit-text').getAttribute('data-text')).toBe(sample);
    expect(await page.locator('#heatmap').getAttribute('data-units')).toBe('24');
    // the downloaded file: an RWKV-7 safetensors file with the run, at the page's step and settings
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('playground-rwkv7.safetensors');
    const m = await importRwkv7(readFileSync((await download.path())!));
    expect(m.config).toMatchObject({ dim: 32, layers: 1, headSize: 16 });
    expect(m.step).toBe(finalStep);
    const tiny = PRESETS.find((p) => p.name === 'tiny')!.settings;
    expect(m.trainSettings).toMatchObject({ seqLen: tiny.seqLen, batch: tiny.batchSize, lr: tiny.lr });
    // completion and next-character bars: what Node computes from the same file
    const temperature = Number(await page.inputValue('#temperature'));
    await page.fill('#prompt', 'The ');
    await page.click('#complete');
    await page.waitForFunction(() => document.getElementById('completion')!.textContent!.length > 0);
    expect(await page.locator('#completion').textContent()).toBe(completeRwkv7(m, 'The ', { maxLength: 120, temperature, seed: 0 }));
    await page.fill('#prompt', 'the Senat');
    const d = (await shownNext())!;
    const node = nextCharDistribution(m, 'the Senat');
    expect(d.tokens).toEqual(node.tokens);
    d.probabilities.forEach((p, i) => expect(Math.abs(p - node.probabilities[i])).toBeLessThanOrEqual(1e-15));
    expect(await page.locator('#next-chars li').count()).toBe(TOP_K + 1);
    m.dispose();
    expect(await text('train')).toBe('Resume');
    // the file loads back into the page: an RWKV-7 at that step with its settings shown and locked
    const dir = mkdtempSync(join(tmpdir(), 'rnnw-rwkv7-'));
    const file = join(dir, 'page-rwkv7.safetensors');
    writeFileSync(file, readFileSync((await download.path())!));
    await page.click('#reset');
    await page.setInputFiles('#model-file', file);
    await page.waitForFunction(() => /Loaded page-rwkv7\.safetensors/.test(document.getElementById('status')!.textContent!));
    expect(await page.inputValue('#cell')).toBe('rwkv7');
    expect(await num('step')).toBe(finalStep);
    expect(await page.inputValue('#lr')).toBe(String(tiny.lr));
    expect((await disabled()).sort()).toEqual([...ARCHITECTURE_AND_TRAINING, ...PRESET_IDS].sort());
    // New model goes back to an editable page
    await page.click('#reset');
    await page.click('#preset-tiny');
    expect(await page.inputValue('#cell')).toBe('lstm');
    expect(problems).toEqual([]);
  }, 300_000);

  it('from 360 px up nothing is wider than the viewport (no sideways scrolling)', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const width of [360, 420]) {
      await page.setViewportSize({ width, height: 800 });
      const r = await page.evaluate(() => {
        const w = window.innerWidth;
        const wide = Array.from(document.querySelectorAll('body *'))
          .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().right > w + 0.5)
          .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} ${Math.round(e.getBoundingClientRect().right)}`);
        return { inner: w, scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, wide };
      });
      await page.screenshot({ path: join(ARTIFACTS, `playground-${width}.png`), fullPage: true });
      expect(r.inner).toBe(width);
      expect(r.scroll, `${width} px`).toBeLessThanOrEqual(r.inner);
      expect(r.body, `${width} px`).toBeLessThanOrEqual(r.inner);
      expect(r.wide, `${width} px`).toEqual([]);
    }
    await page.setViewportSize({ width: 1240, height: 1000 });
    expect(problems).toEqual([]);
  });
});
