// rnn-wasm train-generator | generate: a conditional character generator (ConditionalGenerator)
// trained on JSONL { text, condition } lines or builtin:names, and sampling from it.
import type { Command } from 'commander';
import type { CellKind, ConditionalGenerator, ConditionalExample } from '../../index';
import { int8Flag, library, parse, recurrentFlags, sizeOptions, UsageError, type CliCommand } from '../frame';
import { names, readLabelled } from '../datasets';
import { checkArch, runSettings, trainAndSave, trainFlags } from './app-train';

/** The architecture flags a checkpoint fixes (flag → config key). */
const ARCH: [string, string][] = [['cell', 'cell'], ['layers', 'numLayers'], ['hidden', 'hiddenSize'], ['embedding', 'embeddingDim'], ['conditioning', 'conditioning']];

async function examples(spec: string): Promise<{ train: ConditionalExample[]; validation?: ConditionalExample[]; name: string }> {
  if (spec === 'builtin:names') {
    const n = names();
    return { train: n.train, validation: n.heldOut, name: `first names (${n.train.length} training, ${n.heldOut.length} held out)` };
  }
  if (spec.startsWith('builtin:')) throw new UsageError(`Expected a built-in data set among builtin:names, got ${spec}`);
  return { train: await readLabelled(spec), name: spec };
}

export const trainGenerator: CliCommand = {
  name: 'train-generator',
  summary: 'train a conditional character generator (one text per condition: a class or a vector)',
  define(cmd: Command) {
    cmd
      .requiredOption('--data <file>', 'JSONL lines {"text": …, "condition": class name or [numbers]}, or builtin:names')
      .option('--conditioning <where>', 'state (initial state), input (every step) or both', parse.oneOf(['state', 'input', 'both'] as const), 'both')
      .option('--validation <fraction>', 'held-out fraction at the end of a data file', parse.number(0, 0.99), 0.1);
    recurrentFlags(cmd, { hidden: 128, embedding: 32, embeddingHelp: 'character embedding width' });
    trainFlags(cmd, { batch: 64, lr: 0.003 }).addHelpText('after', '\nExample:\n  rnn-wasm train-generator --data builtin:names --epochs 30 --out names.rnnw\n  rnn-wasm generate names.rnnw --condition female --count 10 --temperature 0.8');
  },
  async run(ctx, _args, o, cmd) {
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const { out, settings } = runSettings(o, given);
    const data = await examples(o.data as string);
    const { ConditionalGenerator } = await library();
    let gen: ConditionalGenerator;
    if (o.resume) {
      gen = await ConditionalGenerator.load(o.resume as string);
      checkArch(given, o, gen.config as unknown as Record<string, unknown>, ARCH);
    } else {
      const classes = [...new Set(data.train.map((e) => e.condition).filter((c): c is string => typeof c === 'string'))].sort();
      const vec = data.train.find((e) => typeof e.condition !== 'string')?.condition as number[] | undefined;
      if (classes.length && vec) throw new UsageError('Expected conditions that are all class names or all vectors, got both');
      gen = ConditionalGenerator.fromExamples(data.train, {
        cell: o.cell as CellKind, ...sizeOptions(o), conditioning: o.conditioning as 'both', seed: o.seed as number,
        ...(vec ? { conditionSize: vec.length } : { classes }),
      });
    }
    try {
      ctx.err(`training a ${gen.config.cell} ${gen.config.numLayers}×${gen.config.hiddenSize} generator (${gen.model.numParameters} parameters, ${gen.vocabulary.size} characters, conditions: ${gen.config.classes?.join(', ') ?? `${gen.config.conditionSize} numbers`}) on ${data.name}; from step ${gen.step}`);
      return await trainAndSave(ctx, o, gen, out, (hooks) => gen.train(data.train, { ...settings, ...hooks, validation: data.validation ?? (!o.resume || given('validation') ? (o.validation as number) : undefined) }), () => ({ parameters: gen.model.numParameters, classes: gen.config.classes }));
    } finally {
      gen.dispose();
    }
  },
};

export const generate: CliCommand = {
  name: 'generate',
  summary: 'sample texts from a conditional generator for one condition',
  define(cmd) {
    cmd
      .argument('<model>', 'model file written by train-generator')
      .requiredOption('--condition <c>', 'a class name, or a JSON array of numbers')
      .option('--count <n>', 'texts to generate', parse.int(1), 10)
      .option('--max-length <n>', 'at most this many characters per text', parse.int(1), 40)
      .option('--temperature <t>', 'softmax temperature (0: greedy)', parse.number(0))
      .option('--top-k <k>', 'sample among the k most likely characters', parse.int(1))
      .option('--top-p <p>', 'sample among the most likely characters up to probability p', parse.number(0, 1, true))
      .option('--seed <n>', 'seed of the draws (the same seed gives the same texts)', parse.int(0), 0)
      .option('--guidance <w>', 'steer away from the contrast: sample from (1+w)·log p(·|condition) − w·log p(·|contrast)', parse.number(0, 100))
      .option('--contrast <c>', 'the condition steered away from (default for named classes: the other classes)');
    int8Flag(cmd);
  },
  async run(ctx, [path], o) {
    const { ConditionalGenerator, quantize } = await library();
    const gen = await ConditionalGenerator.load(path);
    try {
      if (o.int8) quantize(gen, { weights: 'int8' });
      const raw = o.condition as string;
      const condition = gen.config.classes ? raw : parseVector(raw);
      const c = o.contrast as string | undefined;
      const contrast = c === undefined || gen.config.classes ? c : parseVector(c, '--contrast');
      const texts = gen.generate({
        condition, count: o.count as number, maxLength: o.maxLength as number, temperature: o.temperature as number | undefined, topK: o.topK as number | undefined, topP: o.topP as number | undefined, seed: o.seed as number,
        guidance: o.guidance as number | undefined, contrast,
      });
      ctx.out(ctx.json ? JSON.stringify({ condition, texts }) : texts.join('\n'));
    } finally {
      gen.dispose();
    }
  },
};

function parseVector(s: string, flag = '--condition'): number[] {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    throw new UsageError(`Expected ${flag} as a JSON array of numbers (this model takes vectors), got ${s}`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new UsageError(`Expected ${flag} as a JSON array of numbers, got ${s}`);
  return v as number[];
}
