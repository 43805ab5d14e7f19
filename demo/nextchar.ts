// The next-character distribution after a prompt, shown as bars while the user types. The model
// trains in the worker; the page keeps a copy of it (the worker's model file, weights only, taken
// after create/load/stop and with each sample refresh while training) on its own wasm instance, so a
// keystroke costs one forward call here (no round trip to a worker busy training). The worker's
// protocol (serveCharLM) has no probabilities operation; the copy reads them from the network's
// logits: one whole-prompt forward of the model, then a softmax of the last row in f64. An RWKV-7
// copy (cell rwkv7) gives its logits the same way (RWKV7.forward: one wasm call for the prompt).
import { CharLM, Tensor, type RWKV7, type CharTokenizer } from '../dist/index.js';

export const TOP_K = 10;

export interface Distribution {
  prompt: string;
  /** Every token of the vocabulary with its probability, in vocabulary order (sums to 1). */
  tokens: string[];
  probabilities: number[];
}

/**
 * p(next character | prompt) of a CharLM or an RWKV-7 with a character vocabulary, read from its zero
 * state. An empty prompt reads as a line start ('\n'), as CharLM.sample() begins.
 */
export function nextCharDistribution(lm: CharLM | RWKV7, prompt: string): Distribution {
  const read = prompt.length ? prompt : '\n';
  let logits: Float32Array;
  let tokens: string[];
  if (lm instanceof CharLM) {
    const ids = lm.vocabulary.encode(read, 'prompt');
    const T = ids.length;
    const V = lm.vocabulary.size;
    const { output } = lm.model.forward(new Tensor(Int32Array.from(ids), [T, 1]));
    logits = output.data.subarray((T - 1) * V, T * V);
    tokens = [...lm.vocabulary.tokens];
  } else {
    const tok = lm.tokenizer as CharTokenizer;
    const ids = tok.encode(read);
    const V = lm.config.vocabSize;
    logits = lm.forward(ids).logits.subarray((ids.length - 1) * V, ids.length * V);
    tokens = [...tok.chars];
  }
  let max = -Infinity;
  for (const z of logits) max = Math.max(max, z);
  const e = Array.from(logits, (z) => Math.exp(z - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return { prompt, tokens, probabilities: e.map((v) => v / sum) };
}

/** How a token shows on a bar: space, newline and tab made visible. */
export function shownChar(t: string): string {
  return t === ' ' ? '␣' : t === '\n' ? '⏎' : t === '\t' ? '⇥' : t;
}

/** The TOP_K most probable tokens as bars, then one bar for all the others; each bar has data-char and data-p. */
export function drawBars(list: HTMLElement, d: Distribution): void {
  const order = d.probabilities.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  const top = order.slice(0, TOP_K);
  const rest = order.slice(TOP_K).reduce((a, [p]) => a + p, 0);
  const rows = top.map(([p, i]) => ({ char: d.tokens[i], shown: shownChar(d.tokens[i]), p }));
  if (order.length > TOP_K) rows.push({ char: '', shown: `other ${order.length - TOP_K}`, p: rest });
  list.replaceChildren(
    ...rows.map((r) => {
      const li = document.createElement('li');
      li.dataset.char = r.char;
      li.dataset.p = String(r.p);
      if (!r.char) li.className = 'other';
      const ch = document.createElement('span');
      ch.className = 'ch';
      ch.textContent = r.shown;
      const bar = document.createElement('span');
      bar.className = 'bar-track';
      const fill = document.createElement('span');
      fill.style.width = `${(100 * r.p).toFixed(2)}%`;
      bar.append(fill);
      const pct = document.createElement('span');
      pct.className = 'pct';
      pct.textContent = `${(100 * r.p).toFixed(1)} %`;
      li.append(ch, bar, pct);
      return li;
    }),
  );
}
