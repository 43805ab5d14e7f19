// The reader fuzzers at a reduced count (the full run: node scripts/fuzz.mjs --cases 10000). Every
// mutated model file, safetensors file, Keras model.json + weights and ONNX graph runs in a child
// process with a heap cap and a time limit and must end in a typed RnnWasmError or a valid model,
// with no lasting wasm memory or RSS growth. The harness is shown to catch each kind of failure.
import { describe, expect, it } from 'vitest';
import { fuzz } from './fuzz/run.mjs';

const CASES = 400;

describe('reader fuzzers (reduced count; dist/ from npm run build)', () => {
  it.each(['rnnw', 'safetensors', 'keras', 'onnx'])('%s: every mutated input ends in a typed error or a valid model, memory flat', async (reader) => {
    const s = await fuzz([reader], CASES, { seed: 7, batch: CASES });
    const x = s.perReader[reader];
    console.log(reader, JSON.stringify(x));
    expect(s.bad).toEqual([]);
    expect(x.cases).toBe(CASES);
    expect(x.wasmGrowth).toBe(0);
    // the mutations reach past the first checks: some inputs still load, most are refused by name
    expect(x.outcomes.valid ?? 0).toBeGreaterThan(0);
    expect(x.outcomes.FormatError ?? 0).toBeGreaterThan(CASES / 2);
  });

  it('the harness reports an untyped error, a hang and a crash (heap exhausted) by case', async () => {
    const s = await fuzz(['selfcheck'], 6, { batch: 6, heapMb: 64, minBatchMs: 3000, isolateMs: 4000 });
    const kinds = s.bad.map((b) => `${b.index}:${b.kind}`).sort();
    expect(kinds).toEqual(['0:untyped', '3:hang', '5:crash']);
    expect(s.perReader.selfcheck.outcomes).toEqual({ untyped: 1, FormatError: 1, valid: 2, hang: 1, crash: 1 });
  });
});
