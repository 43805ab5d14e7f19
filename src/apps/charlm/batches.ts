// Training batches over one long text of token ids: B windows of T+1 characters, inputs the
// first T, targets the last T, time-major (T, B). Windows come at seeded random offsets, or
// sequentially: the text is cut into B streams that each advance T characters per batch
// (wrapping at their end). The order's whole state (generator words and cursor) is a plain
// object, so a checkpoint resumes the same sequence of batches.
import { Rng } from '../../params/rng';
import { Tensor } from '../../tensor';
import { ValueError } from '../../errors';
import type { TrainSettings } from './options';

/** Where a CharLM run's batch order stands (kept in checkpoints, so a resumed run draws the same batches). */
export interface BatchOrderState {
  /** The batch sampler's generator state (xoshiro128**). */
  rng: [number, number, number, number];
  /** The next window start of the sequential order. */
  cursor: number;
}

export class Batches {
  private readonly rng: Rng;
  private cursor = 0;
  private readonly streamLen: number;

  constructor(private readonly ids: Int32Array, private readonly s: TrainSettings, state?: BatchOrderState) {
    const { seqLen: T, batchSize: B } = s;
    const need = s.order === 'random' ? T + 1 : B * T + 1;
    if (ids.length < need) {
      throw new ValueError(`Expected a training text of at least ${need} characters for ${s.order} windows of seqLen ${T}${s.order === 'sequential' ? ` × batchSize ${B}` : ''}, got ${ids.length}`);
    }
    this.streamLen = Math.floor((ids.length - 1) / B);
    this.rng = new Rng(s.seed);
    if (state) {
      if (!Array.isArray(state.rng) || state.rng.length !== 4 || !Number.isInteger(state.cursor) || state.cursor < 0) {
        throw new ValueError(`Expected a batch order state { rng: 4 words, cursor }, got ${JSON.stringify(state)}`);
      }
      this.rng.state = state.rng;
      this.cursor = state.cursor;
    }
  }

  state(): BatchOrderState {
    return { rng: this.rng.state, cursor: this.cursor };
  }

  /** The next batch; advances the order. */
  next(): { x: Tensor<Int32Array>; y: Tensor<Int32Array> } {
    const { seqLen: T, batchSize: B } = this.s;
    const starts = new Array<number>(B);
    if (this.s.order === 'random') {
      const span = this.ids.length - T; // offsets 0 … N − T − 1
      // 32-bit draws: every offset of a text up to 2^32 characters is reachable
      for (let b = 0; b < B; b++) starts[b] = Math.floor((this.rng.nextU32() / 4294967296) * span);
    } else {
      if (this.cursor + T > this.streamLen) this.cursor = 0;
      for (let b = 0; b < B; b++) starts[b] = b * this.streamLen + this.cursor;
      this.cursor += T;
    }
    const x = new Int32Array(T * B);
    const y = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        x[t * B + b] = this.ids[starts[b] + t];
        y[t * B + b] = this.ids[starts[b] + t + 1];
      }
    }
    return { x: new Tensor(x, [T, B]), y: new Tensor(y, [T, B]) };
  }
}
