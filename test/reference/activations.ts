// Plain float64 references for assembly/kernels/activations.ts, straight from the definitions.
// NaN in gives NaN out (Math.exp, Math.tanh and Math.max all propagate it).

/** Logistic sigmoid σ(x) = 1 / (1 + e^−x); σ(+∞) = 1, σ(−∞) = 0. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Hyperbolic tangent; tanh(±∞) = ±1. */
export function tanh(x: number): number {
  return Math.tanh(x);
}

/** Rectifier max(x, 0). */
export function relu(x: number): number {
  return Math.max(x, 0);
}
