// The CharLM worker protocol (serveCharLM ↔ CharLMWorker) over a Node MessageChannel: the same
// code a Web Worker runs, without a browser. Training reports progress and stops on request;
// the model handed back as bytes equals what the worker holds; errors keep their class.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { init, CharLM, CharLMWorker, serveCharLM, hiddenStates, ValueError, StateError, FormatError, WorkerError, type CharLMTrainProgress } from '../../src/index';

const TEXT = 'the cat sat on the mat. the dog sat on the log.\n'.repeat(6);
const OPTS = { cell: 'gru' as const, hidden: 24, embedding: 8, seed: 5 };
const channels: MessageChannel[] = [];

function pair(progressMs = 0): CharLMWorker {
  const ch = new MessageChannel();
  channels.push(ch);
  serveCharLM(ch.port1 as unknown as Parameters<typeof serveCharLM>[0], { progressMs });
  return new CharLMWorker(ch.port2 as unknown as ConstructorParameters<typeof CharLMWorker>[0]);
}

beforeAll(async () => {
  await init();
});
afterEach(() => {
  for (const ch of channels.splice(0)) {
    ch.port1.close();
    ch.port2.close();
  }
});

describe('CharLMWorker over a message port', () => {
  it('trains with progress, and the bytes it hands back equal the same run on this thread', async () => {
    const w = pair();
    const info = await w.create(TEXT, OPTS);
    expect(info.config.cell).toBe('gru');
    expect(info.vocabulary).toEqual(CharLM.fromText(TEXT, OPTS).vocabulary.tokens);
    const seen: CharLMTrainProgress[] = [];
    const { result, info: after } = await w.train(TEXT, { steps: 30, seqLen: 16, batchSize: 4, lr: 0.01, validation: 0, onProgress: (p) => seen.push(p) });
    expect(result.steps).toBe(30);
    expect(after.step).toBe(30);
    expect(seen.map((p) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(seen[29].loss).toBeLessThan(seen[0].loss);

    const local = CharLM.fromText(TEXT, OPTS);
    await local.train(TEXT, { steps: 30, seqLen: 16, batchSize: 4, lr: 0.01, validation: 0 });
    const bytes = await w.serialize();
    expect(Array.from(bytes)).toEqual(Array.from(local.serialize()));
    const copy = CharLM.deserialize(bytes);
    expect(copy.sample({ length: 40, seed: 2 })).toBe(await w.sample({ length: 40, seed: 2 }));
    expect(await w.complete('the ', { maxLength: 10 })).toBe(local.complete('the ', { maxLength: 10 }));
    expect(await w.bitsPerChar(TEXT.slice(0, 60))).toBe(local.bitsPerChar(TEXT.slice(0, 60)));
    copy.dispose();
    local.dispose();
  });

  it('stop() ends a running train between steps; a second train() resumes the same run', async () => {
    const w = pair(0);
    await w.create(TEXT, OPTS);
    const ac = new AbortController();
    let n = 0;
    const run = w.train(TEXT, { minutes: 1, seqLen: 16, batchSize: 4, validation: 0, signal: ac.signal, onProgress: () => ++n === 5 && ac.abort() });
    // served between steps while training runs
    await expect(w.create(TEXT, OPTS)).rejects.toBeInstanceOf(StateError);
    const { result } = await run;
    expect(result.stopped).toBe('signal');
    expect(await w.stop()).toBe(false);
    const again = await w.train(TEXT, { steps: 3 });
    expect(again.result.totalSteps).toBe(result.totalSteps + 3);
    await expect(w.train(TEXT, { steps: 1, lr: 0.5 })).rejects.toBeInstanceOf(ValueError);
  });

  it('loads a model file, reports hidden states equal to a local probe, and keeps error classes', async () => {
    const local = CharLM.fromText(TEXT, { ...OPTS, cell: 'lstm', layers: 2 });
    const w = pair();
    await expect(w.sample()).rejects.toBeInstanceOf(StateError);
    const info = await w.load(new Blob([local.serialize()]));
    expect(info.config.numLayers).toBe(2);
    const hs = await w.hiddenStates('the cat');
    const mine = hiddenStates(local, 'the cat');
    expect(hs.chars).toEqual(['t', 'h', 'e', ' ', 'c', 'a', 't']);
    expect(hs.units).toBe(24);
    expect(Array.from(hs.values)).toEqual(Array.from(mine.values));
    // the last step's hidden state is the model's own final state of its top layer
    const r = local.model.forward(new (await import('../../src/index')).Tensor(local.vocabulary.encode('the cat'), [7, 1]));
    expect(Array.from(hs.values.subarray(6 * 24))).toEqual(Array.from(r.hN.data.subarray(24)));
    await expect(w.load(new Uint8Array([1, 2, 3]))).rejects.toBeInstanceOf(FormatError);
    await expect(w.create(TEXT, { hidden: -1 })).rejects.toThrow(/Expected hidden/);
    expect(() => hiddenStates(local, '')).toThrow(ValueError);
    w.terminate();
    await expect(w.info()).rejects.toBeInstanceOf(WorkerError);
    expect(() => new CharLMWorker({} as never)).toThrow(ValueError);
    expect(() => serveCharLM({} as never)).toThrow(ValueError);
    local.dispose();
  });
});
