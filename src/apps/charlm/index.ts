// Character-level language models (CharLM) and what they are made of.
export { CharLM, type SampleOptions, type CompleteOptions, type GeneratorOptions } from './charlm';
export { CharStream } from './generate';
export { Vocabulary, UNK, type UnknownPolicy } from './vocab';
export type { CharLMOptions, CharLMConfig, TrainSettings, CellKind as CharLMCell } from './options';
export type { SamplingOptions } from './sampling';
export type { TrainOptions, TrainProgress, TrainResult } from './train';
export { serveCharLM, type MessageScope, type CharLMInfo } from './worker';
export { CharLMWorker, type WorkerLike, type WorkerTrainOptions } from './worker-client';
export { hiddenStates, type HiddenStates } from './activations';
