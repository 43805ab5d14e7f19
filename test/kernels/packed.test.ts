// The packed batch-1 recurrent product (assembly/kernels/packed.ts), both binaries: matvec_packed on
// pack_rows' copy equals matvec_nt bit for bit over row counts on both sides of every tile edge (6-row
// tiles, then 4-row tiles), K tails, bias and accumulate; pack_rows writes exactly its packed size.
// Then the cells that use it: one batch row over T ≥ PACK_MIN_T steps (packed) gives bit-identical
// states, outputs and saved gates to the same sequence run one step per call (never packed), for
// RNN, LSTM, GRU in both forms, forward and reverse, with and without a masked tail, and for sizes
// whose W_hh does not fit the scratch (read in place). The *_pk ops, given a packed copy the caller
// keeps (pack_hh, what a stream holds across steps), equal the plain ops bit for bit, read that copy
// at batch 1 (W_hh itself poisoned with NaN) and W_hh in place for runs of several rows; gemm_pk_nt
// equals gemm_nt.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Variant } from '../../src/wasm/load';
import { runCell, randomLayer, GATES, type CellKind, type WasmCellInput } from '../cells/harness';

const VARIANTS: Variant[] = ['simd', 'relaxed'];
const rts = new Map<Variant, Runtime>();

beforeAll(async () => {
  for (const v of VARIANTS) rts.set(v, await createRuntime({ variant: v }));
});

function packedFloats(N: number, K: number): number {
  const six = N - (N % 6);
  return (six + ((N - six + 3) & ~3)) * ((K + 3) & ~3);
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

describe.each(VARIANTS)('matvec_packed (%s)', (variant) => {
  it('equals matvec_nt bit for bit over tile edges, K tails, bias and accumulate; the copy stays in its size', () => {
    const rt = rts.get(variant)!;
    const { heap, k } = rt;
    let s = 7;
    const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    let cases = 0;
    for (const N of [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 17, 24, 52, 1030]) {
      for (const K of [1, 2, 3, 4, 5, 7, 8, 13, 64, 257]) {
        const size = packedFloats(N, K);
        const w = heap.alloc(N * K), x = heap.alloc(K), b = heap.alloc(N), ya = heap.alloc(N), yb = heap.alloc(N);
        const wp = heap.alloc(size + 8);
        const f = heap.f32;
        for (let i = 0; i < N * K; i++) f[w + i] = rnd();
        for (let i = 0; i < K; i++) f[x + i] = rnd();
        for (let i = 0; i < N; i++) f[b + i] = rnd();
        f.fill(-999.5, wp, wp + size + 8);
        k.pack_rows(wp, w, N, K);
        for (let i = size; i < size + 8; i++) expect(heap.f32[wp + i], `${N}×${K}: past the packed size`).toBe(-999.5);
        for (const bias of [0, b]) {
          for (const acc of [0, 1]) {
            const y0 = Array.from({ length: N }, () => rnd());
            heap.f32.set(y0, ya);
            heap.f32.set(y0, yb);
            k.matvec_nt(ya, w, x, bias, N, K, acc);
            k.matvec_packed(yb, wp, x, bias, N, K, acc);
            expect(bits(heap.read(yb, N)), `${N}×${K} bias ${bias ? 1 : 0} acc ${acc}`).toEqual(bits(heap.read(ya, N)));
            cases++;
          }
        }
        for (const o of [w, x, b, ya, yb, wp]) heap.release(o);
      }
    }
    expect(cases).toBe(16 * 10 * 4);
  });
});

// The sequence one step per call (T = 1: never packed), chaining the states; a masked step is a
// call with length 0.
function stepwise(rt: Runtime, kind: CellKind, inp: WasmCellInput, len: number) {
  const { T, H } = inp;
  const G = GATES[kind];
  const xs = Float64Array.from(inp.x);
  let h: ArrayLike<number> = inp.h0 ?? new Float64Array(H);
  let c: ArrayLike<number> | undefined = kind === 'lstm' ? inp.c0 ?? new Float64Array(H) : undefined;
  const y = new Float32Array(T * H);
  const gates = new Float32Array(T * G * H);
  const aux = new Float32Array(T * H);
  for (let s = 0; s < T; s++) {
    const t = inp.reverse ? T - 1 - s : s;
    const out = runCell(rt, kind, {
      ...inp, T: 1, x: xs.subarray(t * inp.I, (t + 1) * inp.I), h0: h, c0: c, reverse: false,
      lens: Int32Array.of(t < len ? 1 : 0),
    });
    h = out.hN;
    c = out.cN;
    y.set(out.y!, t * H);
    gates.set(out.gates, t * G * H);
    if (out.aux) aux.set(out.aux, t * H);
  }
  return { hN: Float32Array.from(h), cN: c && Float32Array.from(c), y, gates, aux: kind === 'gru' ? aux : undefined };
}

const CELLS: [string, CellKind, Partial<WasmCellInput>][] = [
  ['rnn tanh', 'rnn', {}],
  ['rnn relu', 'rnn', { relu: true }],
  ['lstm', 'lstm', {}],
  ['lstm peepholes + clip', 'lstm', { clip: 0.8 }],
  ['gru reset-after', 'gru', { resetAfter: true }],
  ['gru Cho', 'gru', { resetAfter: false }],
];

describe.each(VARIANTS)('batch-1 cells read the packed W_hh bit-identically (%s)', (variant) => {
  it.each(CELLS)('%s: a 20-step sequence equals 20 one-step calls, forward and reverse, full and masked, H 13 / 256 / 300', (_, kind, extra) => {
    const rt = rts.get(variant)!;
    for (const H of [13, 256, 300]) {
      for (const reverse of [false, true]) {
        for (const len of [20, 14]) {
          const T = 20;
          const layer = randomLayer(H * 31 + len + (reverse ? 1 : 0), kind, T, 1, 5, H);
          const inp: WasmCellInput = { ...layer, ...extra, reverse, lens: len < T ? Int32Array.of(len) : undefined };
          if (extra.clip) inp.peep = Array.from({ length: 3 * H }, (_, i) => Math.sin(i) * 0.3);
          const whole = runCell(rt, kind, inp);
          const steps = stepwise(rt, kind, inp, len);
          const what = `${kind} H ${H} ${reverse ? 'reverse' : 'forward'} len ${len}`;
          expect(bits(whole.hN), what).toEqual(bits(steps.hN));
          if (kind === 'lstm') expect(bits(whole.cN!), what).toEqual(bits(steps.cN!));
          expect(bits(whole.y!), what).toEqual(bits(steps.y));
          expect(bits(whole.gates), what).toEqual(bits(steps.gates));
          if (steps.aux) expect(bits(whole.aux!), what).toEqual(bits(steps.aux));
        }
      }
    }
  });
});

describe.each(VARIANTS)('the *_pk ops read the caller\'s packed W_hh (%s)', (variant) => {
  it.each(CELLS)('%s: equal the plain op at T 1 and 20, batch 1 (W_hh poisoned) and batch 3 with masks', (_, kind, extra) => {
    const rt = rts.get(variant)!;
    for (const H of [13, 256]) {
      for (const [T, B, lens] of [[1, 1, undefined], [20, 1, undefined], [20, 1, [11]], [7, 3, [7, 2, 5]], [7, 3, undefined]] as const) {
        const layer = randomLayer(H * 7 + T + B, kind, T, B, 5, H);
        const inp: WasmCellInput = { ...layer, ...extra, lens: lens ? Int32Array.from(lens) : undefined };
        if (extra.clip) inp.peep = Array.from({ length: 3 * H }, (_, i) => Math.sin(i) * 0.3);
        const plain = runCell(rt, kind, inp);
        const pk = runCell(rt, kind, { ...inp, packedHh: B === 1 ? 'poison' : 'copy' });
        const what = `${kind} H ${H} T ${T} B ${B} lens ${lens ?? 'none'}`;
        expect(bits(pk.h), what).toEqual(bits(plain.h));
        if (kind === 'lstm') expect(bits(pk.cN!), what).toEqual(bits(plain.cN!));
        expect(bits(pk.y!), what).toEqual(bits(plain.y!));
        expect(bits(pk.gates), what).toEqual(bits(plain.gates));
        if (plain.aux) expect(bits(pk.aux!), what).toEqual(bits(plain.aux));
      }
    }
  });

  it('gemm_pk_nt equals gemm_nt bit for bit for one row (from the copy) and for several (in place)', () => {
    const { heap, k } = rts.get(variant)!;
    let s = 11;
    const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (const [M, N, K] of [[1, 2048, 65], [1, 65, 512], [1, 7, 3], [3, 13, 9], [5, 64, 64]]) {
      const w = heap.alloc(N * K), x = heap.alloc(M * K), b = heap.alloc(N), ya = heap.alloc(M * N), yb = heap.alloc(M * N);
      const wp = heap.alloc(k.packed_floats(N, K));
      for (let i = 0; i < N * K; i++) heap.f32[w + i] = rnd();
      for (let i = 0; i < M * K; i++) heap.f32[x + i] = rnd();
      for (let i = 0; i < N; i++) heap.f32[b + i] = rnd();
      k.pack_rows(wp, w, N, K);
      for (const acc of [0, 1]) {
        const y0 = Array.from({ length: M * N }, () => rnd());
        heap.f32.set(y0, ya);
        heap.f32.set(y0, yb);
        k.gemm_nt(ya, x, w, b, M, N, K, acc);
        k.gemm_pk_nt(yb, x, w, wp, b, M, N, K, acc);
        expect(bits(heap.read(yb, M * N)), `${M}×${N}×${K} acc ${acc}`).toEqual(bits(heap.read(ya, M * N)));
      }
      // one row reads only the copy
      if (M === 1) {
        heap.f32.fill(NaN, w, w + N * K);
        k.gemm_pk_nt(yb, x, w, wp, b, M, N, K, 0);
        expect(heap.read(yb, N).every(Number.isFinite), `${N}×${K} from the copy`).toBe(true);
      }
      for (const o of [w, x, b, ya, yb, wp]) heap.release(o);
    }
  });
});
