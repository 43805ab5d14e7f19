// The i32 words of an op list (assembly/program.ts): f32 arguments travel as their bit pattern.
const f32bits = new Float32Array(1);
const i32bits = new Int32Array(f32bits.buffer);
/** The i32 word holding an f32 argument's bit pattern. */
export function f32word(x: number): number {
  f32bits[0] = x;
  return i32bits[0];
}
