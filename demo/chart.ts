// A line chart of the training loss (bits per character) against step, on a canvas. One series.
// Cheap per progress message, because the page must keep its frames coming while the worker
// trains: the axes snap to 1-2-5 steps, so a full redraw (grid, labels, whole curve) happens only
// when the data outgrow them (a few times per run); otherwise only the new segments are stroked.
// A chart library would be larger than the rest of the page for this one curve.
const L = 44, R = 10, T = 10, B = 28;

/** The smallest 1, 2 or 5 × 10^k that is ≥ v. */
export function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v)!;
}

export class LossChart {
  private readonly points: { step: number; bpc: number }[] = [];
  private maxStep = 10;
  private maxY = 4;
  private drawn = 0; // points already stroked
  private full = true; // axes changed or cleared: redraw everything

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.frame();
  }

  add(step: number, bpc: number): void {
    this.points.push({ step, bpc });
    if (step > this.maxStep) (this.maxStep = niceCeil(step)), (this.full = true);
    if (bpc > this.maxY) (this.maxY = Math.ceil(bpc)), (this.full = true);
  }

  clear(): void {
    this.points.length = 0;
    this.maxStep = 10;
    this.maxY = 4;
    this.full = true;
  }

  /** Draws what arrived since the last call (everything after an axis change); once per animation frame. */
  frame(): void {
    const c = this.canvas.getContext('2d')!;
    if (this.full) this.axes(c);
    if (this.drawn >= this.points.length) return;
    c.strokeStyle = '#2456c5';
    c.lineWidth = 1.5;
    c.beginPath();
    const from = Math.max(0, this.drawn - 1);
    for (let i = from; i < this.points.length; i++) {
      const p = this.points[i];
      (i === from ? c.moveTo : c.lineTo).call(c, this.x(p.step), this.y(p.bpc));
    }
    c.stroke();
    this.drawn = this.points.length;
  }

  private x(s: number): number {
    return L + ((this.canvas.width - L - R) * s) / this.maxStep;
  }

  private y(v: number): number {
    return T + (this.canvas.height - T - B) * (1 - v / this.maxY);
  }

  private axes(c: CanvasRenderingContext2D): void {
    const { width: W, height: H } = this.canvas;
    this.full = false;
    this.drawn = 0;
    c.clearRect(0, 0, W, H);
    c.font = '11px system-ui, sans-serif';
    c.fillStyle = '#5b6374';
    c.strokeStyle = '#e3e6eb';
    c.lineWidth = 1;
    for (let v = 0; v <= this.maxY; v++) {
      c.beginPath();
      c.moveTo(L, this.y(v));
      c.lineTo(W - R, this.y(v));
      c.stroke();
      c.fillText(String(v), L - 16, this.y(v) + 4);
    }
    c.fillText('step', W - R - 24, H - 6);
    c.fillText(String(this.maxStep), this.x(this.maxStep) - 24, H - 16);
    c.fillText('0', L, H - 16);
    c.save();
    c.translate(10, T + (H - T - B) / 2 + 30);
    c.rotate(-Math.PI / 2);
    c.fillText('bits/char', 0, 0);
    c.restore();
  }
}
