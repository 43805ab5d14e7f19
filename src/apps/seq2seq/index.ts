// Sequence-to-sequence models (encoder–decoder with attention, beam search) and what they are made of.
export { Seq2Seq, type Pair, type TranslateOptions, type Translation } from './seq2seq';
export { TokenVocab, SPECIALS, type TokenMode } from './vocab';
export { editDistance, scoreSequences, type SequenceScores } from './metrics';
export type { Seq2SeqConfig, Seq2SeqOptions, Seq2SeqCell, Seq2SeqAttention } from './config';
export type { FitOptions, FitProgress, FitResult, ValidationMetric } from './fit';
export type { Hypothesis } from './search';
