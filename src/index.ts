// Public API.
export { init, closeThreads, relaxedSimdSupported, type Variant, type Int8Mode, type InitOptions, type InitInfo } from './wasm/load';
export { RnnWasmError, ShapeError, DTypeError, ValueError, StateError, MemoryError } from './errors';
export { getLimits, setLimits, resetLimits, type Limits } from './limits';
export { Tensor, tensor, type Shape } from './tensor';
export { RNN, LSTM, GRU, MinGRU, MinLSTM, Sequential, layers, type ParameterInfo, type SequentialOptions } from './model/model';
export { Stream, type StreamOptions } from './model/stream';
export { quantize, type QuantizeOptions, type Quantizable } from './model/quantize';
export type { RunOptions, RunResult } from './model/contract';
export type { RNNOptions, LSTMOptions, GRUOptions, MinGRUOptions, MinLSTMOptions, RecurrentOptions, MergeMode, CellKind } from './layers/recurrent';
export type { LinearOptions, EmbeddingOptions } from './layers/dense';
export type { Layer, Module } from './layers/module';
export { SGD, RMSProp, Adam, AdamW, Optimizer, schedules, validateOptimizerState, OPTIMIZER_KINDS, type Schedule, type SGDOptions, type RMSPropOptions, type AdamOptions, type OptimizerState } from './train/optim';
export { NonFiniteError } from './train/guard';
export type { Batch, StepOptions, StepResult, LossKind } from './model/contract';
export type { Example, FitOptions, History } from './model/fit';
export type { KeepOptions, BackwardGradients, BackwardResult } from './model/contract';
export { save, load, loadGraph, toBlob, saveToIndexedDB, loadFromIndexedDB, saveBytesToIndexedDB, loadBytesFromIndexedDB, SaveError } from './io/files';
export { serialize, deserialize, deserializeGraph, isGraphFile, FormatError, FORMAT_VERSION, type SaveOptions, type Loaded, type LoadedGraph } from './io/format';
export { modelFromSpec, type ModelSpec, type Model } from './model/model';
// the pool with the applications registered (GraphWorkerPool: its deprecated former name)
export { WorkerPool, GraphWorkerPool } from './pool-apps';
export type { WorkerPoolOptions, PoolSource } from './parallel/pool';
export type { PoolApp, PoolAppObject } from './parallel/apps';
export { WorkerError } from './errors';
export { readSafetensors, writeSafetensors, parseSafetensors, modelToSafetensors, type NamedTensor, type RawTensor, type SafetensorsDType } from './io/safetensors';
export { importTorch, type TorchArchitecture, type TorchModuleSpec, type TorchImportOptions, type StateDictInput } from './io/torch';
export { toOnnx, fromOnnx, type OnnxExportOptions, type OnnxImport } from './io/onnx';
export { importKeras, KerasImport, type KerasSource, type KerasWeightSpec, type KerasMask } from './io/keras';
export { convert, importModel, detectFormat, readTfjsFiles, registerFormat, fileFormats, type ConvertOptions, type ConvertInput, type ModelFormat, type FileFormat, type FormatOptions, type ModelKind as FileModelKind, type ReadModel } from './io/convert';
export { CharLM, CharStream, Vocabulary, UNK, type CharLMOptions, type CharLMConfig, type CharLMCell, type SampleOptions, type CompleteOptions, type GeneratorOptions, type SamplingOptions, type UnknownPolicy, type TrainSettings as CharLMTrainSettings, type TrainOptions as CharLMTrainOptions, type TrainProgress as CharLMTrainProgress, type TrainResult as CharLMTrainResult } from './apps/charlm/index';
export { Seq2Seq, TokenVocab, SPECIALS as SEQ2SEQ_SPECIALS, editDistance, scoreSequences, type Pair as Seq2SeqPair, type TranslateOptions, type Translation, type TokenMode, type SequenceScores, type Seq2SeqConfig, type Seq2SeqOptions, type Seq2SeqCell, type Seq2SeqAttention, type FitOptions as Seq2SeqFitOptions, type FitProgress as Seq2SeqFitProgress, type FitResult as Seq2SeqFitResult, type ValidationMetric, type Hypothesis } from './apps/seq2seq/index';
/** The graph builders (`graph.input`, `graph.lstm`, `graph.attention`, …): nodes of a {@link GraphModel}. */
export * as graph from './graph/index';
export type { GraphSpec, NodeSpec } from './graph/spec';
export { GraphModel, type Feed, type FeedValue, type GraphStepOptions, type GraphStepResult, type GraphStreamOptions } from './graph/model';
export type { GraphBatch, LossOption } from './graph/losses';
export { CRF, type CRFOptions, type CrfReduction } from './layers/crf';
export { serveCharLM, CharLMWorker, hiddenStates, type MessageScope, type CharLMInfo, type WorkerLike, type WorkerTrainOptions, type HiddenStates } from './apps/charlm/index';
// Applications: sequence classifier and labeler, and what every application shares (src/apps/common).
export { SequenceClassifier, type ClassifierOptions, type ClassifierFitOptions, type Pooling, type Truncation } from './apps/classifier/index';
export { SequenceLabeler, tagScores, type LabelerOptions, type LabeledText, type LabelerFitOptions, type TagScores } from './apps/labeler/index';
export { Tokenizer, EarlyStopping, weightedCrossEntropy, balancedClassWeights, lengthBatches, splitIndices, trainLoop, type TokenizerKind, type TokenizerJSON, type TokenizerOptions, type Weights, type EarlyStoppingOptions, type EpochLog, type LoopResult, type StopReason } from './apps/common/index';
export { ConditionalGenerator, type ConditionalExample, type GeneratorTrainOptions, type GenerateOptions, type GeneratorConfig, type GeneratorOptions as ConditionalGeneratorOptions, type Conditioning, type GuidanceOptions } from './apps/generator/index';
export { Forecaster, type Series, type ForecasterTrainOptions, type ForecastErrors, type ForecasterConfig, type ForecasterOptions, type ForecastMode, type Scaling, type ScalingKind } from './apps/forecaster/index';
export type { LoopOptions as AppTrainOptions, LoopProgress as AppTrainProgress, LoopResult as AppTrainResult } from './apps/graph-loop';
// Serving: an application model over HTTP with dynamic batching (Node; fastify is loaded on use).
export { createServer, type ServerOptions, type RnnServer } from './serve/server';
export type { AppKind, TranslateVerbOptions } from './serve/app';
// types that public signatures use (documented in the API reference)
export type { FormerSizeNames } from './options';
export type { ClassicCellKind } from './layers/cells';
export type { AppCell } from './apps/common/cells';
export type { RecurrentInit } from './layers/recurrent';
export type { EncoderOptions } from './apps/common/text-model';
export type { NodeOptions } from './graph/nodes';
export type { Decoder } from './graph/decoder';
export type { ClassifierTrainOptions } from './apps/classifier/classifier';
export type { LabelerTrainOptions } from './apps/labeler/labeler';
export type { LoopHooks } from './apps/common/controls';
export type { TrainingState as AppTrainingState } from './apps/graph-app';
export type { TrainingState as CharLMTrainingState } from './apps/charlm/train';
export type { BatchOrderState } from './apps/charlm/batches';
export type { LoopSettings as AppLoopSettings } from './apps/graph-loop';
// RWKV-7 "Goose": official-checkpoint import, whole-sequence and streaming inference (src/rwkv).
export { RWKV7, Rwkv7Stream, type Rwkv7State, type Rwkv7Output } from './rwkv/model';
export { importRwkv7, type ImportRwkv7Options } from './rwkv/import';
export { WorldTokenizer } from './rwkv/tokenizer';
export type { Rwkv7Config, Rwkv7StackConfig } from './rwkv/layout';
export type { Rwkv7NodeOptions } from './rwkv/stack';
export type { Rwkv7LayerOptions } from './layers/rwkv7';
export { Rwkv7Trainer, type Rwkv7Batch, type Rwkv7StepOptions } from './rwkv/train';
export { createRwkv7 } from './rwkv/init';
export { saveRwkv7, rwkv7ToBytes, type Rwkv7SaveOptions } from './rwkv/file';
export { CharTokenizer, type Rwkv7Tokenizer } from './rwkv/tokenizer';
export { sampleRwkv7, completeRwkv7, bitsPerCharRwkv7, type Rwkv7SamplingOptions, type Rwkv7SampleOptions, type Rwkv7CompleteOptions } from './rwkv/generate';
export { fitRwkv7, type Rwkv7FitOptions, type Rwkv7FitResult, type Rwkv7FitProgress, type Rwkv7TrainSettings } from './rwkv/fit';
