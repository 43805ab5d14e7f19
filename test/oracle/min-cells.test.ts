// minGRU / minLSTM against PyTorch: test/fixtures/min-cells.json, written by
// scripts/fixtures/min-cells.py (the paper's equations in PyTorch 1.13, float64 autograd; the log-space
// cases through the paper's parallel_scan_log, whose sequential form the script checks agrees to 1e-12).
// Each case is a 2-layer bidirectional layer with lengths and h0; both binaries must give its output
// and h_n within 1e-5 and dx, dh0 and every dW/db within 1e-4 (relative to the largest magnitude).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, MinGRU, MinLSTM, tensor } from '../../src/index';
import { relErr } from '../model/helpers';

interface Fixture {
  kind: 'mingru' | 'minlstm';
  logSpace: boolean;
  T: number;
  B: number;
  I: number;
  H: number;
  numLayers: number;
  bidirectional: boolean;
  lengths: number[];
  x: number[];
  h0: number[];
  params: Record<string, number[]>;
  output: number[];
  hN: number[];
  dOutput: number[];
  dhN: number[];
  dx: number[];
  dh0: number[];
  grads: Record<string, number[]>;
}

const file = JSON.parse(readFileSync(join(__dirname, '../fixtures/min-cells.json'), 'utf8')) as { torch: string; cases: Fixture[] };
const f32 = (a: number[]): Float32Array => Float32Array.from(a);

/** Runs one fixture case; returns [what, relative error, bound] for every compared quantity. */
function run(c: Fixture): [string, number, number][] {
  const D = c.bidirectional ? 2 : 1;
  const o = { inputSize: c.I, hiddenSize: c.H, numLayers: c.numLayers, bidirectional: c.bidirectional, logSpace: c.logSpace };
  const m = c.kind === 'mingru' ? new MinGRU(o) : new MinLSTM(o);
  try {
    expect(m.parameters().map((p) => p.name).sort()).toEqual(Object.keys(c.params).sort());
    m.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, f32(v)])));
    const r = m.forward(tensor(f32(c.x), [c.T, c.B, c.I]), { lengths: c.lengths, h0: f32(c.h0), keep: true });
    m.zeroGrad();
    const g = m.backward({ dOutput: tensor(f32(c.dOutput), [c.T, c.B, D * c.H]), dhN: f32(c.dhN) });
    const out: [string, number, number][] = [
      ['output', relErr(r.output.data, c.output), 1e-5],
      ['hN', relErr(r.hN.data, c.hN), 1e-5],
      ['dx', relErr(g.dx!.data, c.dx), 1e-4],
      ['dh0', relErr(g.dh0!.data, c.dh0), 1e-4],
    ];
    for (const [name, want] of Object.entries(c.grads)) out.push([`d ${name}`, relErr(m.gradient(name), want), 1e-4]);
    return out;
  } finally {
    m.dispose();
  }
}

const cases = file.cases.map((c) => [`${c.kind}${c.logSpace ? ' log-space' : ''} L${c.numLayers} bi T${c.T} B${c.B} H${c.H} lens [${c.lengths}]`, c] as const);

describe(`minGRU / minLSTM vs PyTorch ${file.torch} (the paper's equations)`, () => {
  it('the fixture holds the four cases, and the log-space ones were checked against the sequential form', () => {
    expect(file.cases.map((c) => `${c.kind} ${c.logSpace}`)).toEqual(['mingru false', 'mingru true', 'minlstm false', 'minlstm true']);
    for (const c of file.cases) if (c.logSpace) expect((c as unknown as { sequentialVsParallel: number }).sequentialVsParallel).toBeLessThan(1e-12);
  });

  for (const variant of ['relaxed', 'simd'] as const) {
    describe(`${variant} binary`, () => {
      beforeAll(async () => {
        await init({ variant });
      });
      afterAll(async () => {
        await init({ variant: 'auto' });
      });
      it.each(cases)('%s: output, h_n, dx, dh0 and every dW/db', (_n, c) => {
        const errs = run(c);
        console.log(`${variant} ${_n}: max rel err forward ${Math.max(...errs.slice(0, 2).map((r) => r[1])).toExponential(1)}, gradients ${Math.max(...errs.slice(2).map((r) => r[1])).toExponential(1)}`);
        for (const [what, e, bound] of errs) expect(e, what).toBeLessThan(bound);
      });
    });
  }

  it('the comparison can fail: a wrong gate order (z and h swapped) is caught', async () => {
    await init({ variant: 'auto' });
    const c = structuredClone(file.cases[0]);
    const H = c.H;
    for (const [name, w] of Object.entries(c.params)) {
      const cols = w.length / (2 * H);
      c.params[name] = [...w.slice(H * cols), ...w.slice(0, H * cols)];
    }
    const worst = Math.max(...run(c).filter(([what]) => what === 'output').map(([, e]) => e));
    expect(worst).toBeGreaterThan(1e-2);
  });
});
