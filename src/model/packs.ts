// Packed weight copies kept across calls. A batch-1 stream step multiplies one row by every weight
// matrix of the stack, so it is bound by how fast the weights arrive; the row-interleaved layout of
// assembly/kernels/packed.ts arrives faster than the PyTorch layout read in place (bench/w5-profile.mjs
// times both). Packing costs about two passes over a matrix, so it is done once and kept: one set
// per model, shared by its batch-1 stream plans and its batch-1 inference plans of ≥ PACK_MIN_T
// steps (W_hh only), released with the last plan that reads them. The copies are derived values:
// before each run the caller calls refresh(), which repacks every copy when the arena's write
// counter (Arena.version) has moved since the last packing.
import type { Runtime } from '../wasm/load';
import type { Arena } from '../params/arena';
import type { ProgramBuilder } from '../ir/program';

interface Copy {
  readonly off: number;
  readonly src: string;
  readonly N: number;
  readonly K: number;
  readonly apart: number;
}

export class Packs {
  private readonly copies = new Map<string, Copy>();
  /** Arena.version the copies were packed at. */
  private packedAt: number;
  /** Open plans that read the copies. */
  users = 0;

  constructor(private readonly rt: Runtime, private readonly arena: Arena) {
    this.packedAt = arena.version;
  }

  /**
   * The copy of parameter `name` (N, K), packed as pack_hh(…, apart), for a program that b builds
   * (made and filled on first use; b's measuring pass only counts it).
   */
  get(b: ProgramBuilder, name: string, N: number, K: number, apart: number): number {
    const key = `${name}/${apart}`;
    const have = this.copies.get(key);
    if (have) return have.off;
    return b.external(this.rt.k.packed_hh_floats(N, K, apart), () => {
      this.refresh(); // the others first, so they and the new copy share one version
      const off = this.rt.heap.alloc(this.rt.k.packed_hh_floats(N, K, apart));
      const c: Copy = { off, src: name, N, K, apart };
      this.copies.set(key, c);
      this.pack(c);
      return off;
    });
  }

  /** Repacks every copy if the parameters were written since the last packing. */
  refresh(): void {
    if (this.packedAt === this.arena.version) return;
    for (const c of this.copies.values()) this.pack(c);
    this.packedAt = this.arena.version;
  }

  /** Floats held by the copies (diagnostics and tests). */
  get floats(): number {
    let n = 0;
    for (const c of this.copies.values()) n += this.rt.k.packed_hh_floats(c.N, c.K, c.apart);
    return n;
  }

  release(): void {
    for (const c of this.copies.values()) this.rt.heap.release(c.off);
    this.copies.clear();
  }

  private pack(c: Copy): void {
    this.rt.k.pack_hh(c.off, this.arena.offsetOf(c.src), c.N, c.K, c.apart);
  }
}
