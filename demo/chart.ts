// A line chart of bits per character against step, on a canvas: the training loss (each progress
// message's batch) and the validation loss (the held-out tail of the corpus, measured every second
// or so in the worker), so memorising the corpus shows as the two curves parting. Its legend is
// HTML beside the canvas (index.html, colours from SERIES); the axes carry their titles.
// Cheap per progress message, because the page must keep its frames coming while the worker
// trains: the axes snap to 1-2-5 steps, so a full redraw (grid, labels, both curves) happens only
// when the data outgrow them (a few times per run); otherwise only the new segments are stroked.
// A chart library would be larger than the rest of the page for these two curves.
const L = 44, R = 10, T = 10, B = 34;

export type SeriesName = 'train' | 'valid';
export const SERIES: Record<SeriesName, { colour: string; width: number }> = {
  train: { colour: '#2456c5', width: 1.5 },
  valid: { colour: '#d9731a', width: 2.5 },
};

/** The smallest 1, 2 or 5 × 10^k that is ≥ v. */
export function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v)!;
}

/** Draws text and records it in the canvas's data-labels (what the end-to-end test reads). */
export function label(c: CanvasRenderingContext2D, labels: string[], s: string, x: number, y: number): void {
  c.fillText(s, x, y);
  labels.push(s);
}

interface Series {
  points: [step: number, bpc: number][];
  drawn: number; // points already stroked
}

export class LossChart {
  private readonly series: Record<SeriesName, Series> = { train: { points: [], drawn: 0 }, valid: { points: [], drawn: 0 } };
  private maxStep = 10;
  private maxY = 4;
  private full = true; // axes changed or cleared: redraw everything

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.frame();
  }

  add(name: SeriesName, step: number, bpc: number): void {
    if (!Number.isFinite(bpc)) return;
    this.series[name].points.push([step, bpc]);
    if (step > this.maxStep) (this.maxStep = niceCeil(step)), (this.full = true);
    if (bpc > this.maxY) (this.maxY = Math.ceil(bpc)), (this.full = true);
  }

  clear(): void {
    for (const s of Object.values(this.series)) s.points.length = 0;
    this.maxStep = 10;
    this.maxY = 4;
    this.full = true;
  }

  /** Redraws everything at the next frame (after the canvas changed size). */
  invalidate(): void {
    this.full = true;
  }

  /** Copies of both series (for the browser console and the end-to-end test). */
  data(): Record<SeriesName, [number, number][]> {
    return { train: this.series.train.points.map((p) => [...p]), valid: this.series.valid.points.map((p) => [...p]) };
  }

  /** Draws what arrived since the last call (everything after an axis change); once per animation frame. */
  frame(): void {
    const c = this.canvas.getContext('2d')!;
    if (this.full) this.axes(c);
    for (const name of ['train', 'valid'] as const) {
      const s = this.series[name];
      if (s.drawn >= s.points.length) continue;
      c.strokeStyle = SERIES[name].colour;
      c.lineWidth = SERIES[name].width;
      c.beginPath();
      const from = Math.max(0, s.drawn - 1);
      for (let i = from; i < s.points.length; i++) {
        const [step, bpc] = s.points[i];
        (i === from ? c.moveTo : c.lineTo).call(c, this.x(step), this.y(bpc));
      }
      // a lone first point shows as a dot
      if (s.points.length === 1) c.arc(this.x(s.points[0][0]), this.y(s.points[0][1]), 2, 0, 2 * Math.PI);
      c.stroke();
      s.drawn = s.points.length;
    }
  }

  private x(s: number): number {
    return L + ((this.canvas.width - L - R) * s) / this.maxStep;
  }

  private y(v: number): number {
    return T + (this.canvas.height - T - B) * (1 - v / this.maxY);
  }

  private axes(c: CanvasRenderingContext2D): void {
    const { width: W, height: H } = this.canvas;
    const labels: string[] = [];
    this.full = false;
    this.series.train.drawn = this.series.valid.drawn = 0;
    c.clearRect(0, 0, W, H);
    c.font = '11px system-ui, sans-serif';
    c.fillStyle = '#5b6374';
    c.strokeStyle = '#e3e6eb';
    c.lineWidth = 1;
    c.textAlign = 'right';
    for (let v = 0; v <= this.maxY; v++) {
      c.beginPath();
      c.moveTo(L, this.y(v));
      c.lineTo(W - R, this.y(v));
      c.stroke();
      label(c, labels, String(v), L - 6, this.y(v) + 4);
    }
    c.textAlign = 'center';
    for (let k = 0; k <= 4; k++) label(c, labels, String((this.maxStep * k) / 4), this.x((this.maxStep * k) / 4), H - B + 14);
    label(c, labels, 'training step', L + (W - L - R) / 2, H - 4);
    c.save();
    c.translate(12, T + (H - T - B) / 2);
    c.rotate(-Math.PI / 2);
    label(c, labels, 'bits/char', 0, 0);
    c.restore();
    c.textAlign = 'start';
    this.canvas.dataset.labels = labels.join('|');
  }
}
