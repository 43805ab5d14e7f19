// What every application shares: tokenizers, weighted losses, batching and training controls.
export { Tokenizer, PAD, UNKNOWN, PAD_ID, UNK_ID, type TokenizerKind, type TokenizerJSON, type TokenizerOptions } from './tokenizer';
export { weightedCrossEntropy, softmaxRows, balancedClassWeights, checkWeights, type Weights } from './losses';
export { lengthBatches, padIds, splitIndices, shuffle } from './batches';
export { EarlyStopping, isDiverged, finiteState, trainLoop, type EarlyStoppingOptions, type StopReason, type EpochLog, type LoopResult, type LoopHooks } from './controls';
