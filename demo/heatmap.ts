// Hidden-state heatmap: rows are hidden units of the last recurrent layer, columns the characters
// of a text; colour runs blue (−1) – white (0) – red (+1). Clicking a row colours the text itself
// by that unit, which is where units that track quotes, line ends or word starts show up.
import type { HiddenStates } from '../dist/index.js';

const ROWS = 24;
const COLS = 140;

/** RGBA of an activation: blue (−1) – white (0) – red (+1). */
export function rgb(v: number): [number, number, number, number] {
  const a = Math.max(-1, Math.min(1, v));
  const k = Math.round(255 * (1 - Math.abs(a)));
  return a >= 0 ? [255, k, k, 255] : [k, k, 255, 255];
}

export function colour(v: number): string {
  const [r, g, b] = rgb(v);
  return `rgb(${r},${g},${b})`;
}

export class Heatmap {
  private hs: HiddenStates | null = null;
  private unit = 0;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly text: HTMLElement) {
    canvas.addEventListener('click', (e) => {
      if (!this.hs) return;
      const r = canvas.getBoundingClientRect();
      const row = Math.floor(((e.clientY - r.top) / r.height) * this.rows());
      this.unit = Math.max(0, Math.min(this.rows() - 1, row));
      this.drawText();
    });
  }

  show(hs: HiddenStates): void {
    this.hs = hs;
    this.unit = Math.min(this.unit, this.rows() - 1);
    this.draw();
    this.drawText();
  }

  private rows(): number {
    return this.hs ? Math.min(ROWS, this.hs.units) : 1;
  }

  // one pixel per (unit, character) in an ImageData, scaled up without smoothing: a single draw call
  private draw(): void {
    const hs = this.hs!;
    const n = Math.min(COLS, hs.chars.length);
    const rows = this.rows();
    const img = new ImageData(n, rows);
    for (let j = 0; j < rows; j++) {
      for (let t = 0; t < n; t++) img.data.set(rgb(hs.values[t * hs.units + j]), (j * n + t) * 4);
    }
    const small = new OffscreenCanvas(n, rows);
    small.getContext('2d')!.putImageData(img, 0, 0);
    const c = this.canvas.getContext('2d')!;
    c.imageSmoothingEnabled = false;
    c.clearRect(0, 0, this.canvas.width, this.canvas.height);
    c.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.canvas.dataset.chars = String(n);
    this.canvas.dataset.units = String(rows);
  }

  private drawText(): void {
    const hs = this.hs!;
    this.text.replaceChildren(
      ...hs.chars.map((ch, t) => {
        const s = document.createElement('span');
        s.textContent = ch === '<unk>' ? '?' : ch;
        s.style.background = colour(hs.values[t * hs.units + this.unit]);
        return s;
      }),
    );
    this.text.dataset.unit = String(this.unit);
  }
}
