// The pre-trained panels: names → gender (a SequenceClassifier) and grapheme-to-phoneme with its
// attention heatmap (a Seq2Seq), both made by scripts/demo-models.mjs and shipped in models/.
// They run on the page's own wasm instance as the user types: one name or one word is a single
// small forward pass / greedy decode (well under a frame), so no second worker is needed, and
// nothing runs here while the user does not type.
import { init, SequenceClassifier, Seq2Seq } from '../dist/index.js';
import { drawAttention, fitWidth } from './heatmap';

export interface NamesResult { input: string; labels: string[]; probabilities: number[] }
export interface G2PResult { input: string; phonemes: string[]; attention: number[][] }

/** What the panels showed last (for the browser console and the end-to-end test). */
export const shown: { names: NamesResult | null; g2p: G2PResult | null } = { names: null, g2p: null };

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`Expected ${url} (HTTP 200), got HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The name as the model reads it: lower-cased, trimmed. */
export const nameInput = (s: string): string => s.trim().toLowerCase();
/** The word as the model reads it: lower-case letters and apostrophes only. */
export const wordInput = (s: string): string => s.toLowerCase().replace(/[^a-z']/g, '');

function showName(clf: SequenceClassifier): void {
  const input = nameInput($<HTMLInputElement>('name').value);
  const bar = $('name-bar');
  if (!input) {
    shown.names = null;
    bar.hidden = true;
    $('name-verdict').textContent = 'Type a first name.';
    return;
  }
  const p = Array.from(clf.predict([input])[0]);
  shown.names = { input, labels: [...clf.labels], probabilities: p };
  bar.hidden = false;
  const female = p[clf.labels.indexOf('female')];
  $('name-female').style.width = `${(100 * female).toFixed(1)}%`;
  $('name-female').textContent = `female ${(100 * female).toFixed(1)} %`;
  $('name-male').textContent = `male ${(100 * (1 - female)).toFixed(1)} %`;
  $('name-verdict').textContent = `“${input}” reads as ${female >= 0.5 ? 'female' : 'male'}.`;
}

function showWord(m: Seq2Seq): void {
  const input = wordInput($<HTMLInputElement>('word').value);
  const canvas = $<HTMLCanvasElement>('attention');
  if (!input) {
    shown.g2p = null;
    $('phonemes').textContent = '';
    drawAttention(canvas, [], [], []);
    return;
  }
  const [t] = m.translate([input]);
  shown.g2p = { input, phonemes: t.tokens, attention: t.attention };
  $('phonemes').textContent = t.tokens.join(' ');
  drawAttention(canvas, [...input], [...t.tokens, '</s>'], t.attention);
}

/** Loads both models and wires their inputs; resolves once both panels show their first result. */
export async function startPanels(): Promise<void> {
  const [, names, g2p] = await Promise.all([init(), fetchBytes('models/names.rnnw'), fetchBytes('models/g2p.rnnw')]);
  const clf = SequenceClassifier.deserialize(names);
  const m = Seq2Seq.deserialize(g2p);
  $('name').addEventListener('input', () => showName(clf));
  $('word').addEventListener('input', () => showWord(m));
  showName(clf);
  showWord(m);
  fitWidth($<HTMLCanvasElement>('attention'), () => showWord(m));
  $('panels').dataset.ready = 'true';
}
