// The derived weight copies a GraphModel's programs read besides its arena: int8 copies of the
// recurrent, linear and rwkv7 projection weights after quantize() (src/model/quantize.ts; attention,
// the rwkv7 node's low-rank factors and the other nodes stay f32), and packed copies of a one-row decoder's step weights (src/model/packs.ts), as a
// Sequential's runner keeps both for its plans and streams.
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import type { QuantWeight } from '../model/quantize';
import { Packs } from '../model/packs';
import { RecurrentCore } from '../layers/recurrent';
import { LinearModule } from '../layers/dense';
import type { GNode } from './nodes';
import { stackInt8Names } from '../rwkv/stack';
import type { Rwkv7StackConfig } from '../rwkv/layout';
import type { PackedCopy } from './compile';

/** Parameters the int8 path replaces: every recurrent node's weight_ih* / weight_hh*, every linear node's weight, every rwkv7 node's projections. */
export function int8WeightNames(nodes: readonly GNode[]): string[] {
  const names: string[] = [];
  for (const n of nodes) {
    if (n.kind === 'rwkv7') names.push(...stackInt8Names(n.opts.stack as Rwkv7StackConfig).map((s) => n.paramPrefix + s));
    const m = n.module;
    const recurrent = m instanceof RecurrentCore;
    if (!recurrent && !(m instanceof LinearModule)) continue;
    for (const s of m.paramSpecs()) if (recurrent ? /^weight_(ih|hh)_/.test(s.name) : s.name === 'weight') names.push(n.paramPrefix + s.name);
  }
  return names;
}

export class WeightCopies {
  /** int8 copies by parameter name when quantized, else null. */
  private quantW: Map<string, QuantWeight> | null = null;
  /** Packed copies shared by the open one-row decoders; null when none is open. */
  private packSet: Packs | null = null;

  constructor(private readonly rt: Runtime, private readonly arena: Arena) {}

  get quantized(): boolean {
    return this.quantW !== null;
  }

  /** Installs (or, with null, drops) int8 copies, releasing the previous ones. */
  setQuantized(q: Map<string, QuantWeight> | null): void {
    for (const w of this.quantW?.values() ?? []) {
      this.rt.heap.release(w.q);
      this.rt.heap.release(w.s);
    }
    this.quantW = q;
  }

  /** The int8 copy of a parameter, for inference and step programs (training programs never ask). */
  quantOf(): ((name: string) => QuantWeight | undefined) | undefined {
    const q = this.quantW;
    return q ? (name) => q.get(name) : undefined;
  }

  /**
   * The packed copies a decoder of B rows reads, counted as one more reader: one row, f32 weights
   * and one thread (a team splits W in place; the kernels read a copy for a single row only); else null.
   */
  acquirePacks(B: number): Packs | null {
    if (B !== 1 || this.quantW || this.rt.team !== undefined) return null;
    const p = (this.packSet ??= new Packs(this.rt, this.arena));
    p.users++;
    return p;
  }

  /** A compile option reading `packs` (Packs.get). */
  static packedCopy(packs: Packs | null): PackedCopy | undefined {
    return packs ? (b, name, N, K, apart) => packs.get(b, name, N, K, apart) : undefined;
  }

  /** One reader fewer; the copies are released with the last. */
  releasePacks(p: Packs): void {
    p.users--;
    if (this.packSet === p && p.users === 0) {
      p.release();
      this.packSet = null;
    }
  }

  /** Floats held by packed copies (0 when no decoder reads any). */
  get packedFloats(): number {
    return this.packSet?.floats ?? 0;
  }

  /** Releases everything (the model is disposed). */
  dispose(): void {
    this.setQuantized(null);
    this.packSet?.release();
    this.packSet = null;
  }
}
