// The one owner of WebAssembly.Memory: the allocator and every typed-array view over it.
// Offsets handed out are f32 *element* offsets, 16-byte aligned (multiples of 4 elements);
// offset 0 is never handed out, so kernels can read 0 as "absent".
// After memory.grow() the old ArrayBuffer is detached: views are re-derived here, and callers
// must ask for views after any allocation (never keep one across an alloc).
import { MemoryError } from '../errors';

const PAGE = 65536; // bytes per wasm page
const RESERVED = PAGE / 4; // first 64 KiB (elements) left to the module's static data; reserve() raises it
const ALIGN = 4; // elements (16 bytes)
const MAX_PAGES = 65536; // wasm32: 4 GiB

interface Block {
  off: number;
  size: number;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  private f32View!: Float32Array;
  private i32View!: Int32Array;
  private buffer!: ArrayBufferLike;
  private free: Block[] = []; // sorted by offset, coalesced
  private used = new Map<number, number>(); // offset → size (elements)
  private top: number; // end of the managed region (elements)

  /**
   * `maximumPages` caps the memory (wasm32 allows 65536 pages = 4 GiB); growth past it is a MemoryError.
   * `shared`: a shared memory (SharedArrayBuffer) for the threaded build; growing it does not detach
   * the old buffer, so views are re-derived when the byte length changes.
   */
  constructor(initialPages = 32, private readonly maximumPages = MAX_PAGES, readonly shared = false) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared } as WebAssembly.MemoryDescriptor);
    this.top = RESERVED;
    this.refresh();
    this.extendTo(this.memory.buffer.byteLength / 4);
  }

  /** Float32 view of the whole memory (re-derived after growth). */
  get f32(): Float32Array {
    if (this.stale()) this.refresh();
    return this.f32View;
  }
  /** Int32 view of the whole memory (re-derived after growth). */
  get i32(): Int32Array {
    if (this.stale()) this.refresh();
    return this.i32View;
  }

  // A plain memory detaches its buffer on growth (a new object); a shared one keeps the old
  // SharedArrayBuffer valid at its old length (memory.buffer may be a new object each time).
  private stale(): boolean {
    return this.shared ? this.buffer.byteLength !== this.memory.buffer.byteLength : this.buffer !== this.memory.buffer;
  }

  /** Bytes of linear memory currently reserved from the system. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }
  /** Elements currently allocated (live blocks). */
  get liveElements(): number {
    let s = 0;
    for (const v of this.used.values()) s += v;
    return s;
  }

  /**
   * Keeps the first `bytes` of memory out of the allocator: the module's static data and its kernel
   * scratch (`reserved_end()` of the wasm). Called once, before anything is allocated.
   */
  reserve(bytes: number): void {
    if (this.used.size > 0) throw new RangeError(`Expected reserve() before any allocation, got ${this.used.size} live blocks`);
    const floor = Math.ceil(bytes / 4 / ALIGN) * ALIGN;
    if (floor <= RESERVED) return;
    const pages = Math.ceil((floor * 4 - this.memory.buffer.byteLength) / PAGE);
    if (pages > 0) this.growPages(pages, pages, floor * 4 - this.memory.buffer.byteLength);
    this.refresh();
    this.free = [];
    this.top = floor;
    this.extendTo(this.memory.buffer.byteLength / 4);
  }

  /** Allocates n f32 elements (zero-filled); returns the element offset. */
  alloc(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Expected a non-negative integer size, got ${n}`);
    const size = Math.max(ALIGN, Math.ceil(n / ALIGN) * ALIGN);
    let i = this.free.findIndex((b) => b.size >= size);
    if (i < 0) {
      this.grow(size);
      i = this.free.findIndex((b) => b.size >= size);
    }
    const blk = this.free[i];
    const off = blk.off;
    if (blk.size === size) this.free.splice(i, 1);
    else {
      blk.off += size;
      blk.size -= size;
    }
    this.used.set(off, size);
    this.f32.fill(0, off, off + size);
    return off;
  }

  /** Returns a block to the free list (coalescing with neighbours). */
  release(off: number): void {
    const size = this.used.get(off);
    if (size === undefined) throw new RangeError(`Expected a live heap offset, got ${off}`);
    this.used.delete(off);
    let i = 0;
    while (i < this.free.length && this.free[i].off < off) i++;
    this.free.splice(i, 0, { off, size });
    // merge with the next, then with the previous
    const cur = this.free[i];
    const next = this.free[i + 1];
    if (next && cur.off + cur.size === next.off) {
      cur.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.off + prev.size === cur.off) {
      prev.size += cur.size;
      this.free.splice(i, 1);
    }
  }

  /** A fresh Float32Array over [off, off+n). Valid until the next allocation. */
  view(off: number, n: number): Float32Array {
    return this.f32.subarray(off, off + n);
  }

  /** Copies src into the heap at off. */
  write(off: number, src: ArrayLike<number>): void {
    this.f32.set(src as ArrayLike<number>, off);
  }

  /** Copies int8 bytes into the heap from the first byte of element off (int8 weight rows). */
  writeI8(off: number, src: Int8Array): void {
    new Int8Array(this.memory.buffer, off * 4, src.length).set(src);
  }

  /** Copies n elements out of the heap into a new JS-owned Float32Array. */
  read(off: number, n: number): Float32Array {
    return this.f32.slice(off, off + n);
  }

  /** Reads the f64 stored at element offset off (8-byte aligned: off even). */
  readF64(off: number): number {
    return new Float64Array(this.memory.buffer, off * 4, 1)[0];
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
  }

  // Grows linear memory so that a free block of at least `size` elements exists at the end.
  private grow(size: number): void {
    const last = this.free[this.free.length - 1];
    const tailFree = last && last.off + last.size === this.top ? last.size : 0;
    const needBytes = (size - tailFree) * 4;
    const curPages = this.memory.buffer.byteLength / PAGE;
    // grow geometrically (at least 50 %) to keep the number of growths logarithmic
    const exact = Math.ceil(needBytes / PAGE);
    this.growPages(Math.max(exact, Math.ceil(curPages / 2)), exact, needBytes);
    this.refresh();
    this.extendTo(this.memory.buffer.byteLength / 4);
  }

  // memory.grow(wanted), falling back to the `exact` pages needed; when even that fails the heap is
  // unchanged (grow() either succeeds whole or throws before touching the memory) and a MemoryError says why.
  private growPages(wanted: number, exact: number, needBytes: number): void {
    if (wanted > exact) {
      try {
        this.memory.grow(wanted);
        return;
      } catch {
        // the geometric step may exceed the maximum while the exact need still fits
      }
    }
    try {
      this.memory.grow(exact);
    } catch {
      const have = this.memory.buffer.byteLength;
      throw new MemoryError(
        `Expected wasm memory to grow by ${needBytes} bytes (${exact} pages) beyond its current ${have} bytes, got a refusal ` +
          `(maximum ${this.maximumPages * PAGE} bytes, or the engine is out of memory)`,
      );
    }
  }

  // Adds [top, newTop) to the free list.
  private extendTo(newTop: number): void {
    if (newTop <= this.top) return;
    const last = this.free[this.free.length - 1];
    if (last && last.off + last.size === this.top) last.size += newTop - this.top;
    else this.free.push({ off: this.top, size: newTop - this.top });
    this.top = newTop;
  }
}
