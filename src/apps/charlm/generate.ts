// Streaming generation: a CharStream reads a prompt and produces characters one at a time, each
// one streaming step of the whole stack (a single wasm call) fed with the character it just
// produced. Its recurrent state persists between calls. A model keeps one step state in wasm
// memory, so several CharStreams of one model take turns: the one that runs saves the previous
// owner's state and restores its own (a copy of (numStates, 1, H) floats, once per switch).
import type { Model } from '../../model/model';
import type { Stream } from '../../model/stream';
import { Rng } from '../../params/rng';
import { StateError, ValueError, show } from '../../errors';
import { pick, type Sampling } from './sampling';
import type { Vocabulary } from './vocab';

const owners = new WeakMap<Model, CharStream>();

/**
 * Generates text one character at a time from a {@link CharLM} (from `generator()`): `feed`, `next`, `take`,
 * iteration; each character is one streaming step of the whole stack. `close()` releases its state.
 */
export class CharStream implements Iterable<string> {
  private stream: Stream | null = null;
  private saved: { h: Float32Array; c?: Float32Array } | null = null;
  /** Logits for the next character (null until something has been read). */
  private logits: Float32Array | null = null;
  private closed = false;
  private readonly rng: Rng;

  /** @internal built by CharLM.generator() */
  constructor(private readonly model: Model, private readonly vocab: Vocabulary, private readonly sampling: Sampling, seed: number) {
    this.rng = new Rng(seed);
  }

  /** Reads text (e.g. a prompt) into the state without producing anything; unknown characters follow the vocabulary's policy. */
  feed(text: string): void {
    const ids = this.vocab.encode(text, 'prompt');
    this.activate();
    for (const id of ids) this.logits = this.stream!.step(Int32Array.of(id));
  }

  /** Produces one character (`<unk>` is never produced). */
  next(): string {
    this.activate();
    // nothing read yet: start as at the beginning of a line
    if (!this.logits) this.logits = this.stream!.step(Int32Array.of(this.startId()));
    const id = pick(this.logits, this.sampling, this.rng, this.vocab.unkId);
    this.logits = this.stream!.step(Int32Array.of(id));
    return this.vocab.tokens[id];
  }

  /** Produces up to n characters, stopping early after any of `until` (which is then cut off the result). */
  take(n: number, until: readonly string[] = []): string {
    if (!(Number.isInteger(n) && n >= 0)) throw new ValueError(`Expected n to be a non-negative integer, got ${show(n)}`);
    if (!Array.isArray(until) || until.some((u) => typeof u !== 'string' || u.length === 0)) throw new ValueError(`Expected until to be an array of non-empty strings, got ${JSON.stringify(until)}`);
    let out = '';
    for (let i = 0; i < n; i++) {
      out += this.next();
      const stop = until.find((u) => out.endsWith(u));
      if (stop !== undefined) return out.slice(0, out.length - stop.length);
    }
    return out;
  }

  /** Characters forever (stop with break). */
  *[Symbol.iterator](): Iterator<string> {
    for (;;) yield this.next();
  }

  /** Back to the zero state with nothing read (the sampling generator continues). */
  reset(): void {
    this.activate();
    this.stream!.reset();
    this.logits = null;
  }

  /** Releases the stream; further calls throw StateError. */
  close(): void {
    if (owners.get(this.model) === this) owners.delete(this.model);
    this.closed = true;
    this.stream = null;
    this.saved = null;
  }

  private startId(): number {
    const nl = this.vocab.tokens.indexOf('\n');
    return nl >= 0 ? nl : this.vocab.unkId >= 0 ? this.vocab.unkId : 0;
  }

  // Makes this stream the owner of the model's step state, saving the previous owner's.
  private activate(): void {
    if (this.closed) throw new StateError('Expected an open CharStream, got one that was closed');
    const cur = owners.get(this.model);
    if (cur === this && this.stream) return;
    if (cur && cur !== this) cur.suspend();
    this.stream = this.model.stream({ batchSize: 1 }); // zero state
    if (this.saved) this.stream.reset(this.saved.h, this.saved.c);
    owners.set(this.model, this);
  }

  private suspend(): void {
    if (!this.stream) return;
    const s = this.stream.state();
    this.saved = { h: s.h.data, c: s.c?.data };
  }
}
