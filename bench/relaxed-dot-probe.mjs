// Does this engine compute i32x4.relaxed_dot_i8x16_i7x16_add_s as the relaxed-SIMD spec says?
//   node bench/relaxed-dot-probe.mjs
// Compiles a one-function module (assemblyscript, relaxed SIMD on), feeds a = 0..15 (int8) and
// b = 1 (int7) with addend 5 and prints the four i32 lanes against Σ a·b + 5 per group of four
// (11, 27, 43, 59). Node 20 (V8 11.3, --experimental-wasm-relaxed-simd) printed 12, 44, 76, 108
// on 2026-11-30; Debian's Chromium 156 prints the spec's lanes. The library runs the same probe at
// init (q8_dot_probe in assembly/kernels/int8.ts) and uses the relaxed dot for fast int8 only where
// it passes (test/kernels/int8.test.ts compares the two probes; bench/int8-browser.mjs times it).
import v8 from 'node:v8';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'rdot-'));
writeFileSync(join(dir, 'p.ts'), `export function probe(p: usize): void {
  v128.store(p + 48, i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p), v128.load(p + 16), v128.load(p + 32)));
}\n`);
execFileSync(process.execPath, [join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), join(dir, 'p.ts'), '-o', join(dir, 'p.wasm'),
  '--runtime', 'stub', '--initialMemory', '1', '--enable', 'simd,relaxed-simd', '-O3'], { stdio: 'ignore' });
const bytes = readFileSync(join(dir, 'p.wasm'));
if (!WebAssembly.validate(bytes)) {
  console.log('this engine rejects the relaxed integer dot product (module does not validate)');
} else {
  const memory = new WebAssembly.Memory({ initial: 1 }); // used when the project's asconfig imports memory
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { abort() {}, memory } });
  const buf = (exports.memory ?? memory).buffer;
  const p = 1024;
  const i8 = new Int8Array(buf), i32 = new Int32Array(buf);
  for (let i = 0; i < 16; i++) { i8[p + i] = i; i8[p + 16 + i] = 1; }
  i32.fill(5, (p + 32) / 4, (p + 48) / 4);
  exports.probe(p);
  const got = Array.from(i32.subarray((p + 48) / 4, (p + 64) / 4));
  const want = [0, 1, 2, 3].map((g) => 4 * g * 4 + 6 + 5);
  console.log(`lanes ${got.join(', ')}; spec: ${want.join(', ')} → ${got.every((v, i) => v === want[i]) ? 'correct' : 'WRONG'} (${process.version}, V8 ${process.versions.v8})`);
}
