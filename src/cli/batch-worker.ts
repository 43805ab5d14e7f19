// A worker thread of the batch tools: holds one classifier or labeler (from the model bytes in
// workerData) and answers { texts } with one result per text.
import { workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import { library } from './frame';
import type { SequenceClassifier, SequenceLabeler } from '../index';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const { model, app } = workerData as { model: Uint8Array; app: 'classifier' | 'labeler' };
const ready: Promise<SequenceClassifier | SequenceLabeler> = library().then((lib) => (app === 'classifier' ? lib.SequenceClassifier.deserialize(model) : lib.SequenceLabeler.deserialize(model)));

export default async function run({ texts }: { texts: string[] }): Promise<object[]> {
  const m = await ready;
  if ('labels' in m) {
    const probs = m.predict(texts);
    return probs.map((p) => {
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
      return { label: m.labels[best], probs: Object.fromEntries(m.labels.map((l, k) => [l, +p[k].toFixed(6)])) };
    });
  }
  const tags = m.predict(texts);
  return texts.map((t, i) => ({ tokens: m.tokenizer.split(t), tags: tags[i] }));
}
