// The playground page: settings and presets, the worker (CharLMWorker ↔ serveCharLM in worker.js),
// the training and validation curves, generated text, the next-character distribution, the
// hidden-state heatmap, and saving/loading model files. The main thread only posts messages and
// draws (once per animation frame); training and validation run in the worker. The page keeps a
// weights-only copy of the model for the next-character bars (nextchar.ts). An RWKV-7 (cell rwkv7)
// runs in the same worker behind the same protocol (rwkv-server.ts); its file is a safetensors one.
import { init, CharLM, CharLMWorker, importRwkv7, saveBytesToIndexedDB, loadBytesFromIndexedDB, type RWKV7, type CharLMCell, type CharLMInfo, type CharLMTrainProgress, type CharLMTrainResult } from '../dist/index.js';
import { LossChart, SERIES } from './chart';
import { Heatmap, fitWidth } from './heatmap';
import { startPanels, shown } from './panels';
import { FIELDS, PRESETS, editable, type Settings } from './settings';
import { drawBars, nextCharDistribution, type Distribution } from './nextchar';
import { isRwkv7Bytes } from './rwkv-server';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const IDB_KEY = 'playground-model';
const SAMPLE_EVERY_MS = 2500;
/** The held-out tail of the corpus: never trained on, scored in the worker about every second. */
const VALID_FRACTION = 0.1;
const CELL_NAMES: Record<CharLMCell | 'rwkv7', string> = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN', mingru: 'minGRU', minlstm: 'minLSTM', rwkv7: 'RWKV-7' };

type Stored = Pick<Settings, 'lr' | 'seqLen' | 'batchSize'>;

const ready = init(); // the page's own wasm instance (the panels and the model copy run on it)
const worker = new CharLMWorker(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
const chart = new LossChart($<HTMLCanvasElement>('chart'));
const heatmap = new Heatmap($<HTMLCanvasElement>('heatmap'), $<HTMLCanvasElement>('unit-text'));
let corpora: { name: string; text: string }[] = [];
let userText = '';
let info: CharLMInfo | null = null; // the model in the worker
let stored: Stored | null = null; // the training settings that model carries (a resumed run keeps them)
let copy: CharLM | RWKV7 | null = null; // the page's weights-only copy, for the next-character bars
let copyStep = 0; // the step the copy was taken at (or soon after, while training)
let distribution: Distribution | null = null;
let training = false;
let latest: CharLMTrainProgress | null = null; // newest progress not drawn yet
let step = 0; // newest step known on the page
let validBpc: number | null = null; // newest validation bits/char
let sampling = false;
let sampleSeed = 1;
let progressShown = 0; // progress messages drawn
let samples = 0; // samples shown (the end-to-end test checks that its measured windows include one)

// for the browser console and the end-to-end test
Object.assign(window, { playground: { worker, panels: shown, counts: () => ({ progress: progressShown, samples, sampling }), chart: () => chart.data(), next: () => distribution } });

function describe(i: CharLMInfo): string {
  return `${CELL_NAMES[i.config.cell as CharLMCell | 'rwkv7']} ${i.config.numLayers}×${i.config.hiddenSize}, ${i.vocabulary.length} characters`;
}

/** Enables exactly the fields whose values the next Train press uses; the buttons follow the state. */
function lock(): void {
  const st = { training, hasModel: info !== null, hasStoredSettings: stored !== null };
  for (const f of FIELDS) $<HTMLInputElement>(f.id).disabled = !editable(f.kind, st);
  for (const p of PRESETS) $<HTMLButtonElement>(`preset-${p.name}`).disabled = !editable('architecture', st) || !editable('training', st);
  $<HTMLButtonElement>('train').disabled = training;
  $<HTMLButtonElement>('stop').disabled = !training;
  for (const id of ['reset', 'load-idb', 'model-file']) $<HTMLButtonElement>(id).disabled = training;
  for (const id of ['download', 'save-idb']) $<HTMLButtonElement>(id).disabled = training || !info;
  $('settings-note').textContent = training
    ? 'Settings are locked while training.'
    : !info
      ? 'These settings build and train a new model when you press Train.'
      : `This model keeps its architecture${stored ? ' and its training settings (a resumed run continues the same way)' : ''}; press New model to change ${stored ? 'them' : 'it'}.`;
}

function setState(s: 'idle' | 'training' | 'stopped' | 'error', message: string): void {
  document.body.dataset.state = s;
  $('status').textContent = message;
  lock();
}

function fail(e: unknown): void {
  const err = e as Error;
  training = false;
  setState('error', `${err.name}: ${err.message}`);
}

function corpusText(): string {
  const sel = $<HTMLSelectElement>('corpus').value;
  if (sel === 'paste') return $<HTMLTextAreaElement>('paste').value;
  if (sel === 'file') return userText;
  return corpora[Number(sel)].text;
}

function readSettings(): Settings {
  const n = (id: string) => Number(input(id).value);
  return { cell: $<HTMLSelectElement>('cell').value as Settings['cell'], layers: n('layers'), hidden: n('hidden'), embedding: n('embedding'), lr: n('lr'), seqLen: n('seqLen'), batchSize: n('batchSize'), steps: n('steps') };
}

function fill(s: Partial<Settings>): void {
  for (const [k, v] of Object.entries(s)) input(k).value = String(v);
}

function showInfo(i: CharLMInfo): void {
  info = i;
  step = i.step;
  $('variant').textContent = i.variant === 'relaxed' ? 'relaxed SIMD' : 'SIMD';
  $('params').textContent = i.numParameters.toLocaleString('en');
  $('step').textContent = String(i.step);
  const { cell, numLayers: layers, hiddenSize: hidden, embeddingDim: embedding } = i.config;
  fill({ cell, layers, hidden, embedding, ...(stored ?? {}) });
  $('train').textContent = i.step > 0 ? 'Resume' : 'Train';
}

/** Replaces the page's copy of the model (bytes of a model file) and redraws the bars. */
async function setCopy(bytes: Uint8Array): Promise<CharLM | RWKV7> {
  await ready;
  // a file that is neither a CharLM's nor an RWKV-7's throws here, and the old copy stays
  const lm = isRwkv7Bytes(bytes) ? await importRwkv7(bytes) : CharLM.deserialize(bytes);
  copy?.dispose();
  copy = lm;
  showDistribution();
  return copy;
}

async function refreshCopy(): Promise<void> {
  const at = step;
  const bytes = await worker.serialize({ optimizer: false });
  copyStep = at;
  await setCopy(bytes);
}

function showDistribution(): void {
  const list = $('next-chars');
  if (!copy) {
    distribution = null;
    list.replaceChildren();
    $('next-note').textContent = 'Train or load a model to see what it expects next.';
    return;
  }
  const prompt = input('prompt').value;
  try {
    distribution = nextCharDistribution(copy, prompt);
  } catch (e) {
    distribution = null;
    list.replaceChildren();
    $('next-note').textContent = (e as Error).message;
    return;
  }
  drawBars(list, distribution);
  $('next-note').textContent = `After “${prompt.length > 24 ? `…${prompt.slice(-24)}` : prompt || '(a line start)'}” the model (as of step ${copyStep}) expects:`;
}

/** Scores the held-out tail in the worker (served between training steps) and plots it at step `at`. */
async function validate(tail: string, at: number): Promise<void> {
  const v = await worker.bitsPerChar(tail);
  validBpc = v;
  chart.add('valid', at, v);
  $('valid-bpc').textContent = v.toFixed(3);
}

/**
 * While training runs: the held-out score about every second (less often when it is slow to
 * compute). The worker scores it between two steps; it is plotted at the newest step the page had
 * heard of when it asked, which is at most one progress interval (250 ms of steps) behind that.
 */
async function validateWhileTraining(tail: string, from: number): Promise<void> {
  while (training) {
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    if (!training || step === from) continue;
    await validate(tail, step);
    await new Promise((r) => setTimeout(r, 3 * (performance.now() - t0 - 1000)));
  }
}

async function train(): Promise<void> {
  const text = corpusText();
  if (text.length < 200) return setState('error', `Expected a corpus of at least 200 characters, got ${text.length}`);
  const s = readSettings();
  if (!(Number.isInteger(s.steps) && s.steps > 0)) return setState('error', `Expected steps to be a positive integer, got ${input('steps').value}`);
  $<HTMLButtonElement>('train').disabled = true; // until training starts (lock() sets it from then on)
  const cut = Math.floor(text.length * (1 - VALID_FRACTION));
  const head = text.slice(0, cut), tail = text.slice(cut);
  if (!info) {
    chart.clear();
    // the vocabulary is the whole corpus's, so the held-out tail reads without unknown characters
    showInfo(await worker.create(text, { cell: s.cell as CharLMCell, numLayers: s.layers, hiddenSize: s.hidden, embeddingDim: s.embedding, seed: 1 }));
    await refreshCopy();
  }
  // the fields are enabled exactly when they apply: a model without stored settings takes them
  const settings = stored ? {} : { seqLen: s.seqLen, batchSize: s.batchSize, lr: s.lr };
  const from = info!.step;
  await validate(tail, from);
  training = true;
  setState('training', `${from ? `Resuming at step ${from}` : 'Starting'}: ${s.steps} steps of ${describe(info!)}…`);
  void validateWhileTraining(tail, from).catch(fail);
  let done: { result: CharLMTrainResult; info: CharLMInfo };
  try {
    done = await worker.train(head, { steps: s.steps, validation: 0, ...settings, onProgress: (p) => (latest = p) });
  } finally {
    training = false;
  }
  if (!stored) stored = { lr: s.lr, seqLen: s.seqLen, batchSize: s.batchSize };
  const { result, info: after } = done;
  showInfo(after);
  await validate(tail, after.step);
  await refreshCopy();
  const how = result.stopped === 'signal' ? 'Stopped' : 'Finished';
  setState('stopped', `${how} at step ${after.step} / ${from + s.steps} (${describe(after)}): ${result.trainBitsPerChar.toFixed(3)} bits/char on the last training batches, ${validBpc!.toFixed(3)} on the held-out text.`);
  await refreshSample();
}

async function refreshSample(): Promise<void> {
  if (sampling || !info) return;
  sampling = true;
  try {
    const text = await worker.sample({ length: 240, temperature: Number(input('temperature').value), seed: sampleSeed++ });
    $('sample').textContent = text;
    heatmap.show(await worker.hiddenStates(text));
    if (training) await refreshCopy();
    samples++;
  } finally {
    sampling = false;
  }
}

async function complete(): Promise<void> {
  if (!info) return setState('error', 'Expected a model (train or load one first), got none');
  $('completion').textContent = await worker.complete(input('prompt').value, { maxLength: 120, temperature: Number(input('temperature').value), seed: 0 });
}

/** A model file from disk or IndexedDB: the page reads its settings, the worker takes the model. */
async function load(bytes: Uint8Array, from: string): Promise<void> {
  const lm = await setCopy(bytes);
  copyStep = lm.step;
  showDistribution();
  const t = lm.trainSettings;
  stored = t ? { lr: t.lr, seqLen: t.seqLen, batchSize: 'batch' in t ? t.batch : t.batchSize } : null;
  showInfo(await worker.load(bytes));
  chart.clear();
  setState('stopped', `Loaded ${from}: ${describe(info!)}, step ${info!.step}.`);
  await refreshSample();
}

// Once per animation frame: the newest progress message (at most one per 250 ms arrives; older
// ones are dropped) goes to the figures, the status line and the chart, which strokes only the
// new segments.
function frame(): void {
  if (latest) {
    const p = latest;
    step = p.step;
    setText('step', String(p.step));
    setText('bpc', p.bitsPerChar.toFixed(3));
    setText('cps', Math.round(p.charsPerSecond).toLocaleString('en'));
    if (training) setText('status', `Training ${describe(info!)}: step ${p.step} / ${p.targetStep}, ${p.bitsPerChar.toFixed(3)} bits/char on this batch${validBpc === null ? '' : `, ${validBpc.toFixed(3)} on the held-out text`}.`);
    chart.add('train', p.step, p.bitsPerChar);
    progressShown++;
    latest = null;
  }
  chart.frame();
  requestAnimationFrame(frame);
}

/** Sets an element's text only when it changes (no style or layout work otherwise). */
function setText(id: string, s: string): void {
  const el = $(id);
  if (el.textContent !== s) el.textContent = s;
}

function wire(): void {
  const on = (id: string, ev: string, fn: () => Promise<void> | void) => $(id).addEventListener(ev, () => void Promise.resolve().then(fn).catch(fail));
  for (const p of PRESETS) {
    on(`preset-${p.name}`, 'click', () => {
      fill(p.settings);
      for (const q of PRESETS) $(`preset-${q.name}`).setAttribute('aria-pressed', String(q === p));
      $('preset-about').textContent = `${p.name}: ${p.about}`;
    });
  }
  on('train', 'click', train);
  on('stop', 'click', () => void worker.stop());
  on('reset', 'click', () => {
    info = null;
    stored = null;
    copy?.dispose();
    copy = null;
    step = copyStep = 0;
    validBpc = null;
    chart.clear();
    heatmap.clear();
    for (const id of ['sample', 'completion']) $(id).textContent = '';
    for (const id of ['bpc', 'valid-bpc', 'cps', 'params']) $(id).textContent = '–';
    showDistribution();
    $('train').textContent = 'Train';
    $('step').textContent = '0';
    setState('idle', 'A new model will be built with the settings above when you press Train.');
  });
  on('corpus', 'change', () => {
    $('paste-row').hidden = $<HTMLSelectElement>('corpus').value !== 'paste';
  });
  on('corpus-file', 'change', async () => {
    const f = input('corpus-file').files?.[0];
    if (!f) return;
    userText = await f.text();
    const sel = $<HTMLSelectElement>('corpus');
    sel.querySelector('option[value=file]')?.remove();
    sel.add(new Option(`File: ${f.name}`, 'file', true, true));
    $('paste-row').hidden = true;
  });
  on('temperature', 'input', () => {
    $('temperature-value').textContent = Number(input('temperature').value).toFixed(2);
  });
  on('temperature', 'change', refreshSample);
  on('prompt', 'input', showDistribution);
  on('complete', 'click', complete);
  on('download', 'click', async () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([await worker.serialize()], { type: 'application/octet-stream' }));
    a.download = info?.config.cell === ('rwkv7' as CharLMCell) ? 'playground-rwkv7.safetensors' : 'playground.rnnw';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  on('save-idb', 'click', async () => {
    await saveBytesToIndexedDB(IDB_KEY, await worker.serialize());
    $('status').textContent = `Saved in this browser (IndexedDB): ${describe(info!)}, step ${info!.step}.`;
  });
  on('load-idb', 'click', async () => load(await loadBytesFromIndexedDB(IDB_KEY), 'from this browser'));
  on('model-file', 'change', async () => {
    const f = input('model-file').files?.[0];
    if (f) await load(new Uint8Array(await f.arrayBuffer()), f.name);
  });
  setInterval(() => training && void refreshSample().catch(fail), SAMPLE_EVERY_MS);
}

/** The one-line explanations under the fields and in their titles come from settings.ts. */
function explain(): void {
  for (const f of FIELDS) {
    $(f.id).title = f.hint;
    $(`hint-${f.id}`).textContent = f.hint;
  }
  for (const p of PRESETS) $(`preset-${p.name}`).title = p.about;
  for (const [name, s] of Object.entries(SERIES)) $(`swatch-${name}`).style.background = s.colour;
}

async function start(): Promise<void> {
  corpora = (await (await fetch('corpora.json')).json()) as typeof corpora;
  const sel = $<HTMLSelectElement>('corpus');
  corpora.forEach((c, i) => sel.add(new Option(`${c.name} (${(c.text.length / 1000).toFixed(0)} k chars)`, String(i))));
  sel.add(new Option('Paste your own text…', 'paste'));
  explain();
  wire();
  fitWidth($<HTMLCanvasElement>('chart'), () => chart.invalidate());
  for (const id of ['heatmap', 'unit-text']) fitWidth($<HTMLCanvasElement>(id), () => heatmap.redraw());
  showDistribution();
  requestAnimationFrame(frame);
  setState('idle', 'Ready: pick a corpus and a preset (or your own settings), then press Train.');
  await startPanels();
}

start().catch(fail);
