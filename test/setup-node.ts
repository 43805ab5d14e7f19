// Node 20 ships relaxed SIMD behind a flag; turn it on so both binaries can be tested here.
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
