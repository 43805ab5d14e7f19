// Public API.
export { init, relaxedSimdSupported, type Variant, type InitOptions } from './wasm/load';
export { RnnWasmError, ShapeError, DTypeError, ValueError, StateError } from './errors';
export { Tensor, tensor, type Shape } from './tensor';
export { RNN, LSTM, GRU, Sequential, layers, type ParameterInfo, type SequentialOptions } from './model/model';
export { Stream } from './model/stream';
export type { RunOptions, RunResult } from './model/runner';
export type { RNNOptions, LSTMOptions, GRUOptions, RecurrentOptions, MergeMode, CellKind } from './layers/recurrent';
export type { LinearOptions, EmbeddingOptions } from './layers/dense';
export type { Module } from './layers/module';
export { SGD, RMSProp, Adam, AdamW, Optimizer, schedules, type Schedule, type SGDOptions, type RMSPropOptions, type AdamOptions } from './train/optim';
export type { Batch, StepOptions, StepResult, LossKind } from './train/trainer';
export type { Example, FitOptions, History } from './train/fit';
export { save, load, toBlob, saveToIndexedDB, loadFromIndexedDB } from './io/files';
export { serialize, deserialize, FormatError, FORMAT_VERSION, type SaveOptions, type Loaded } from './io/format';
export { modelFromSpec, type ModelSpec, type Model } from './model/model';
