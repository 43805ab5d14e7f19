// Heatmaps on a canvas: one pixel per cell in an ImageData, scaled up without smoothing (a single
// draw call). Used twice: the char model's hidden units over the generated text (rows units,
// columns characters; blue −1 – white 0 – red +1; clicking a row colours the text by that unit,
// which is where units that track quotes, line ends or word starts show up) and the G2P panel's
// attention weights (rows output phonemes, columns input letters; white 0 – red 1, with labels).
// Both carry axis titles on the canvas and a colour legend in HTML beside it (index.html).
import type { HiddenStates } from '../dist/index.js';
import { label } from './chart';

const ROWS = 24;
const COLS = 140;
const HL = 34, HB = 30; // the hidden-state map's margins: unit numbers (left), character numbers (below)

/**
 * Keeps a canvas's drawing width equal to its laid-out width (CSS px), redrawing on change, so
 * labels keep their size on a narrow screen instead of shrinking with a scaled-down bitmap.
 */
export function fitWidth(canvas: HTMLCanvasElement, redraw: () => void): void {
  new ResizeObserver(() => {
    const w = Math.round(canvas.clientWidth);
    if (w > 0 && w !== canvas.width) {
      canvas.width = w;
      redraw();
    }
  }).observe(canvas);
}

/** RGBA of a value: blue (−1) – white (0) – red (+1). */
export function rgb(v: number): [number, number, number, number] {
  const a = Math.max(-1, Math.min(1, v));
  const k = Math.round(255 * (1 - Math.abs(a)));
  return a >= 0 ? [255, k, k, 255] : [k, k, 255, 255];
}

export function colour(v: number): string {
  const [r, g, b] = rgb(v);
  return `rgb(${r},${g},${b})`;
}

/** Draws value(row, col) for rows × cols cells into the rectangle (x, y, w, h) of the canvas. */
export function drawGrid(c: CanvasRenderingContext2D, rows: number, cols: number, value: (r: number, col: number) => number, x: number, y: number, w: number, h: number): void {
  const img = new ImageData(cols, rows);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) img.data.set(rgb(value(r, j)), (r * cols + j) * 4);
  const small = new OffscreenCanvas(cols, rows);
  small.getContext('2d')!.putImageData(img, 0, 0);
  c.imageSmoothingEnabled = false;
  c.drawImage(small, x, y, w, h);
}

export class Heatmap {
  private hs: HiddenStates | null = null;
  private unit = 0;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly text: HTMLCanvasElement) {
    canvas.addEventListener('click', (e) => {
      if (!this.hs) return;
      const r = canvas.getBoundingClientRect();
      const y = ((e.clientY - r.top) / r.height) * canvas.height; // in canvas pixels
      const row = Math.floor((y / (canvas.height - HB)) * this.rows());
      this.unit = Math.max(0, Math.min(this.rows() - 1, row));
      this.drawText();
    });
  }

  /** Blank both canvases (a new model has no sample yet). */
  clear(): void {
    this.hs = null;
    for (const cv of [this.canvas, this.text]) {
      cv.getContext('2d')!.clearRect(0, 0, cv.width, cv.height);
      for (const k of Object.keys(cv.dataset)) delete cv.dataset[k];
    }
  }

  show(hs: HiddenStates): void {
    this.hs = hs;
    this.unit = Math.min(this.unit, this.rows() - 1);
    this.redraw();
  }

  /** Draws the map and the coloured text again (after a canvas changed size). */
  redraw(): void {
    if (!this.hs) return;
    this.draw();
    this.drawText();
  }

  private rows(): number {
    return this.hs ? Math.min(ROWS, this.hs.units) : 1;
  }

  private draw(): void {
    const hs = this.hs!;
    const n = Math.min(COLS, hs.chars.length);
    const rows = this.rows();
    const { width: W, height: H } = this.canvas;
    const c = this.canvas.getContext('2d')!;
    c.clearRect(0, 0, W, H);
    drawGrid(c, rows, n, (j, t) => hs.values[t * hs.units + j], HL, 0, W - HL, H - HB);
    // axes: unit numbers and title on the left, character positions and title below
    const labels: string[] = [];
    const cellH = (H - HB) / rows, cellW = (W - HL) / n;
    c.font = '11px system-ui, sans-serif';
    c.fillStyle = '#5b6374';
    c.textAlign = 'right';
    label(c, labels, '0', HL - 4, cellH / 2 + 4);
    label(c, labels, String(rows - 1), HL - 4, H - HB - cellH / 2 + 4);
    c.textAlign = 'center';
    label(c, labels, '1', HL + cellW / 2, H - HB + 12);
    c.textAlign = 'right';
    label(c, labels, String(n), W - 1, H - HB + 12);
    c.textAlign = 'center';
    label(c, labels, 'character of the sample →', HL + (W - HL) / 2, H - 4);
    c.save();
    c.translate(12, (H - HB) / 2);
    c.rotate(-Math.PI / 2);
    label(c, labels, 'hidden unit', 0, 0);
    c.restore();
    c.textAlign = 'start';
    this.canvas.dataset.labels = labels.join('|');
    this.canvas.dataset.chars = String(n);
    this.canvas.dataset.units = String(rows);
  }

  // The text coloured by one unit, on a canvas: a character cell per character in a monospace
  // grid (newlines start a row). It was a <span> per character with its own background, which
  // made every sample refresh lay out a few hundred inline boxes again on the main thread while
  // training ran (scripts/demo-frames.mjs shows where long frames come from); this is one draw.
  private drawText(): void {
    const hs = this.hs!;
    const cv = this.text;
    const c = cv.getContext('2d')!;
    const font = '13px ui-monospace, monospace';
    c.font = font;
    const cw = c.measureText('M').width, lh = 18, cols = Math.max(1, Math.floor(cv.width / cw));
    const cells: [number, number][] = []; // (row, column) of each character
    let row = 0, col = 0;
    for (const ch of hs.chars) {
      if (col === cols) (row++, (col = 0));
      cells.push([row, col]);
      if (ch === '\n') (row++, (col = 0));
      else col++;
    }
    const height = (row + 1) * lh + 4;
    if (cv.height !== height) cv.height = height; // resizing resets the context
    c.clearRect(0, 0, cv.width, cv.height);
    c.font = font;
    c.textBaseline = 'middle';
    hs.chars.forEach((ch, t) => {
      const [r, k] = cells[t];
      c.fillStyle = colour(hs.values[t * hs.units + this.unit]);
      c.fillRect(k * cw, r * lh + 2, cw, lh);
      c.fillStyle = '#1d2330';
      if (ch !== '\n') c.fillText(ch === '<unk>' ? '?' : ch, k * cw, r * lh + 2 + lh / 2);
    });
    cv.dataset.unit = String(this.unit);
    cv.dataset.chars = String(hs.chars.length);
    cv.dataset.text = hs.chars.join('');
  }
}

/** Attention weights (a row per output token, each over the input tokens), labelled on both axes. */
export function drawAttention(canvas: HTMLCanvasElement, inputs: readonly string[], outputs: readonly string[], weights: readonly (readonly number[])[]): void {
  const c = canvas.getContext('2d')!;
  const { width: W, height: H } = canvas;
  c.clearRect(0, 0, W, H);
  canvas.dataset.rows = canvas.dataset.cols = '0';
  canvas.dataset.labels = '';
  if (!inputs.length || !outputs.length) return;
  const L = 62, T = 38; // room for the axis titles, the output labels (left) and the input letters (top)
  const cell = Math.min(28, (W - L) / inputs.length, (H - T) / outputs.length);
  drawGrid(c, outputs.length, inputs.length, (r, j) => weights[r][j], L, T, cell * inputs.length, cell * outputs.length);
  const labels: string[] = [];
  c.fillStyle = '#5b6374';
  c.font = '11px system-ui, sans-serif';
  label(c, labels, 'letters read →', L, 12);
  c.save();
  c.translate(6, T); // read top to bottom, as the rows run
  c.rotate(Math.PI / 2);
  label(c, labels, 'phonemes produced →', 0, 0);
  c.restore();
  c.fillStyle = '#1d2330';
  c.font = '12px ui-monospace, monospace';
  c.textAlign = 'center';
  inputs.forEach((s, j) => label(c, labels, s, L + cell * (j + 0.5), T - 6));
  c.textAlign = 'right';
  outputs.forEach((s, r) => label(c, labels, s, L - 6, T + cell * (r + 0.5) + 4));
  c.textAlign = 'start';
  canvas.dataset.labels = labels.join('|');
  canvas.dataset.rows = String(outputs.length);
  canvas.dataset.cols = String(inputs.length);
}
