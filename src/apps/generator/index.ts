// Conditional (one-to-many) character generation from a class or a vector.
export { ConditionalGenerator, type ConditionalExample, type GeneratorTrainOptions, type GenerateOptions } from './generator';
export type { GeneratorConfig, GeneratorOptions, Conditioning } from './options';
export type { GuidanceOptions } from './guidance';
