// A line chart of the training loss (bits per character) against step, on a canvas. One series,
// fixed axes that grow with the data, drawn only when new points arrived (once per animation
// frame at most). A chart library would be larger than the rest of the page for this one curve.
export class LossChart {
  private readonly points: { step: number; bpc: number }[] = [];
  private dirty = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  add(step: number, bpc: number): void {
    this.points.push({ step, bpc });
    this.dirty = true;
  }

  clear(): void {
    this.points.length = 0;
    this.dirty = true;
  }

  /** Redraws if points arrived since the last draw. */
  frame(): void {
    if (this.dirty) this.draw();
  }

  private draw(): void {
    this.dirty = false;
    const c = this.canvas.getContext('2d')!;
    const { width: W, height: H } = this.canvas;
    const L = 44, R = 10, T = 10, B = 28;
    c.clearRect(0, 0, W, H);
    c.font = '11px system-ui, sans-serif';
    c.fillStyle = '#5b6374';
    const maxStep = Math.max(10, ...this.points.map((p) => p.step));
    const maxY = Math.max(1, Math.ceil(Math.max(...this.points.map((p) => p.bpc), 4)));
    const x = (s: number) => L + ((W - L - R) * s) / maxStep;
    const y = (v: number) => T + (H - T - B) * (1 - v / maxY);
    c.strokeStyle = '#e3e6eb';
    c.lineWidth = 1;
    for (let v = 0; v <= maxY; v++) {
      c.beginPath();
      c.moveTo(L, y(v));
      c.lineTo(W - R, y(v));
      c.stroke();
      c.fillText(String(v), L - 16, y(v) + 4);
    }
    c.fillText('step', W - R - 24, H - 6);
    c.fillText(String(maxStep), x(maxStep) - 24, H - 16);
    c.fillText('0', L, H - 16);
    c.save();
    c.translate(10, T + (H - T - B) / 2 + 30);
    c.rotate(-Math.PI / 2);
    c.fillText('bits/char', 0, 0);
    c.restore();
    if (this.points.length < 2) return;
    c.strokeStyle = '#2456c5';
    c.lineWidth = 1.5;
    c.beginPath();
    this.points.forEach((p, i) => (i ? c.lineTo(x(p.step), y(p.bpc)) : c.moveTo(x(p.step), y(p.bpc))));
    c.stroke();
  }
}
