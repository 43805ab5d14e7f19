// Layout changes between the user's arrays and the kernels' time-major ones.
import { copy_f32 } from './elementwise';

// transpose01: swaps the two leading dimensions of a (A, Bd, F) array into y (Bd, A, F).
//   used for batchFirst ↔ time-major; rows of F floats are copied whole.
export function transpose01(y: usize, x: usize, A: i32, Bd: i32, F: i32): void {
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < Bd; b++) {
      copy_f32(y + (<usize>b * <usize>A + <usize>a) * <usize>F, x + (<usize>a * <usize>Bd + <usize>b) * <usize>F, F);
    }
  }
}
