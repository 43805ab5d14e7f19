// Public API.
export { init, relaxedSimdSupported, type Variant, type InitOptions } from './wasm/load';
export { RnnWasmError, ShapeError, DTypeError, ValueError, StateError } from './errors';
