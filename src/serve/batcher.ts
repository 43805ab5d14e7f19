// Dynamic batching: a request that finds a worker idle is sent at once (waiting would only add
// latency); while every worker is busy, the texts of the requests that arrive are collected and
// sent as one call (one forward on one worker) when `maxBatch` texts wait, when `windowMs` has
// passed since the first of them, or when a worker becomes free — whichever comes first. The
// results are dealt back to their requests. A request is never split; one larger than maxBatch
// runs alone. windowMs 0 and maxBatch 1 turn batching off (every request is its own call).

export interface BatcherOptions {
  windowMs: number;
  maxBatch: number;
  /** Calls that can run at once (the pool's workers); while fewer are running a request goes at once. */
  capacity: number;
  /** Called with the number of texts of every call (the batch-size metric). */
  onBatch?(texts: number): void;
}

interface Waiting {
  texts: readonly string[];
  ok(r: object[]): void;
  fail(e: unknown): void;
}

export class Batcher {
  private waiting: Waiting[] = [];
  private count = 0;
  private running = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly run: (texts: string[]) => Promise<object[]>,
    private readonly o: BatcherOptions,
  ) {}

  /** The results of `texts`, one per text, from the batch they joined. */
  submit(texts: readonly string[]): Promise<object[]> {
    return new Promise((ok, fail) => {
      this.waiting.push({ texts, ok, fail });
      this.count += texts.length;
      if (this.count >= this.o.maxBatch || this.o.windowMs <= 0 || this.running < this.o.capacity) this.fire();
      else this.timer ??= setTimeout(() => this.fire(), this.o.windowMs);
    });
  }

  /** Sends every waiting request, in calls of at most maxBatch texts. */
  private fire(): void {
    if (this.timer) clearTimeout(this.timer), (this.timer = null);
    while (this.waiting.length) {
      const batch: Waiting[] = [];
      let n = 0;
      while (this.waiting.length && (batch.length === 0 || n + this.waiting[0].texts.length <= this.o.maxBatch)) {
        const w = this.waiting.shift()!;
        batch.push(w);
        n += w.texts.length;
      }
      this.count -= n;
      this.o.onBatch?.(n);
      this.running++;
      this.run(batch.flatMap((w) => w.texts)).then(
        (res) => {
          let k = 0;
          for (const w of batch) w.ok(res.slice(k, (k += w.texts.length)));
        },
        (e) => batch.forEach((w) => w.fail(e)),
      ).finally(() => {
        this.running--;
        // a worker is free: what waits goes now rather than at the end of its window
        if (this.waiting.length) this.fire();
      });
    }
  }
}
