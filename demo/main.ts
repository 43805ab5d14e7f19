// The playground page: controls, the worker (CharLMWorker ↔ serveCharLM in worker.js), the loss
// chart, generated text, the hidden-state heatmap, and saving/loading model files. The main thread
// only posts messages and draws (once per animation frame); all wasm work happens in the worker.
import { CharLMWorker, saveBytesToIndexedDB, loadBytesFromIndexedDB, type CharLMCell, type CharLMInfo, type CharLMTrainProgress } from '../dist/index.js';
import { LossChart } from './chart';
import { Heatmap } from './heatmap';
import { startPanels, shown } from './panels';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const IDB_KEY = 'playground-model';
const SAMPLE_EVERY_MS = 2500;

const worker = new CharLMWorker(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
const chart = new LossChart($<HTMLCanvasElement>('chart'));
const heatmap = new Heatmap($<HTMLCanvasElement>('heatmap'), $<HTMLCanvasElement>('unit-text'));
let corpora: { name: string; text: string }[] = [];
let userText = '';
let info: CharLMInfo | null = null;
let training = false;
let latest: CharLMTrainProgress | null = null;
let sampling = false;
let sampleSeed = 1;
let progressShown = 0; // progress messages drawn
let samples = 0; // samples shown (the end-to-end test checks that its measured windows include one)

// for the browser console and the end-to-end test
Object.assign(window, { playground: { worker, panels: shown, counts: () => ({ progress: progressShown, samples, sampling }) } });

function setState(s: 'idle' | 'training' | 'stopped' | 'error', message: string): void {
  document.body.dataset.state = s;
  $('status').textContent = message;
  $<HTMLButtonElement>('train').disabled = s === 'training';
  $<HTMLButtonElement>('stop').disabled = s !== 'training';
  for (const id of ['reset', 'download', 'save-idb', 'load-idb', 'model-file', 'cell', 'layers', 'hidden']) $<HTMLButtonElement>(id).disabled = s === 'training';
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

function describe(i: CharLMInfo): string {
  const cell = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN', mingru: 'minGRU', minlstm: 'minLSTM' }[i.config.cell];
  return `${cell} ${i.config.layers}×${i.config.hidden}, ${i.vocabulary.length} characters, step ${i.step}`;
}

function showInfo(i: CharLMInfo): void {
  info = i;
  $('variant').textContent = i.variant === 'relaxed' ? 'relaxed SIMD' : 'SIMD';
  $('params').textContent = i.numParameters.toLocaleString('en');
  $('step').textContent = String(i.step);
  $<HTMLSelectElement>('cell').value = i.config.cell;
  input('layers').value = String(i.config.layers);
  input('hidden').value = String(i.config.hidden);
  $('train').textContent = i.step > 0 ? 'Resume' : 'Train';
}

async function train(): Promise<void> {
  const text = corpusText();
  if (text.length < 200) return setState('error', `Expected a corpus of at least 200 characters, got ${text.length}`);
  if (!info) {
    const cell = $<HTMLSelectElement>('cell').value as CharLMCell;
    showInfo(await worker.create(text, { cell, layers: Number(input('layers').value), hidden: Number(input('hidden').value), embedding: 32, seed: 1 }));
    chart.clear();
  }
  // a fresh model takes the page's settings; a trained or loaded checkpoint continues with its own
  const settings = info!.step === 0 ? { seqLen: 64, batchSize: 16, lr: Number(input('lr').value) } : {};
  training = true;
  setState('training', `Training ${describe(info!)}…`);
  const { result, info: after } = await worker.train(text, { minutes: 60, validation: 0, ...settings, onProgress: (p) => (latest = p) });
  training = false;
  showInfo(after);
  setState('stopped', `Stopped after ${result.steps} steps (${describe(after)}); ${result.trainBitsPerChar.toFixed(3)} bits/char over the last steps.`);
  await refreshSample();
}

async function refreshSample(): Promise<void> {
  if (sampling || !info) return;
  sampling = true;
  try {
    const text = await worker.sample({ length: 240, temperature: Number(input('temperature').value), seed: sampleSeed++ });
    $('sample').textContent = text;
    heatmap.show(await worker.hiddenStates(text));
    samples++;
  } finally {
    sampling = false;
  }
}

async function complete(): Promise<void> {
  if (!info) return setState('error', 'Expected a model (train or load one first), got none');
  $('completion').textContent = await worker.complete(input('prompt').value, { maxLength: 120, temperature: Number(input('temperature').value), seed: 0 });
}

async function loaded(i: CharLMInfo, from: string): Promise<void> {
  showInfo(i);
  chart.clear();
  setState('stopped', `Loaded ${from}: ${describe(i)}.`);
  await refreshSample();
}

// Once per animation frame: the newest progress message (at most one per 250 ms arrives; older
// ones are dropped) goes to three text cells and the chart, which strokes only the new segment.
function frame(): void {
  if (latest) {
    setText('step', String(latest.step));
    setText('bpc', latest.bitsPerChar.toFixed(3));
    setText('cps', Math.round(latest.charsPerSecond).toLocaleString('en'));
    chart.add(latest.step, latest.bitsPerChar);
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
  on('train', 'click', train);
  on('stop', 'click', () => void worker.stop());
  on('reset', 'click', () => {
    info = null;
    chart.clear();
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
  on('complete', 'click', complete);
  on('download', 'click', async () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([await worker.serialize()], { type: 'application/octet-stream' }));
    a.download = 'playground.rnnw';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  on('save-idb', 'click', async () => {
    await saveBytesToIndexedDB(IDB_KEY, await worker.serialize());
    $('status').textContent = `Saved in this browser (IndexedDB): ${describe(info!)}.`;
  });
  on('load-idb', 'click', async () => loaded(await worker.load(await loadBytesFromIndexedDB(IDB_KEY)), 'from this browser'));
  on('model-file', 'change', async () => {
    const f = input('model-file').files?.[0];
    if (f) await loaded(await worker.load(f), f.name);
  });
  setInterval(() => training && void refreshSample().catch(fail), SAMPLE_EVERY_MS);
}

async function start(): Promise<void> {
  corpora = (await (await fetch('corpora.json')).json()) as typeof corpora;
  const sel = $<HTMLSelectElement>('corpus');
  corpora.forEach((c, i) => sel.add(new Option(`${c.name} (${(c.text.length / 1000).toFixed(0)} k chars)`, String(i))));
  sel.add(new Option('Paste your own text…', 'paste'));
  wire();
  requestAnimationFrame(frame);
  setState('idle', 'Ready: pick a corpus and a model, then press Train.');
  await startPanels();
}

start().catch(fail);
