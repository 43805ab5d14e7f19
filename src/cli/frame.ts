// The CLI frame: a registry of commands on commander. Each command declares its arguments and
// options and a run(); the frame adds the global flags (--json, --debug), --help on every
// command, --version, and maps every outcome to an exit code: 0 ok, 1 failure, 2 usage.
// Errors print as one line; the stack only with --debug. A misspelt command or flag gets commander's
// "did you mean" on that line, an unknown command is a usage error even with --help, and a model
// file of the wrong kind (or no model file) is named as such (src/cli/kinds.ts).
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CELL_KINDS as APP_CELLS } from '../layers/cells';
import { explainModelFile, MODEL_ARGUMENT } from './kinds';

/** Threads of one model call in this process (a command's --threads; a batch worker's from its pool). */
let initThreads: number | undefined;
/** Sets the threads library() initialises with (before the command's first library() call). */
export function useThreads(threads: number | undefined): void {
  initThreads = threads;
}

/**
 * The library, loaded and initialised on first use (so --help and usage errors do not load the
 * wasm), on `--threads` threads when the command was given it. Commands import it through here;
 * the build points it at the package's own dist/index.
 */
export async function library(): Promise<typeof import('../index')> {
  const mod = await import('../index');
  // from the CJS build, import() of index.cjs gives its exports as `default`
  const lib = typeof mod.init === 'function' ? mod : (mod as unknown as { default: typeof mod }).default;
  const info = await lib.init(initThreads === undefined ? undefined : { threads: initThreads });
  if (info.threadsNote) process.stderr.write(`rnn-wasm: ${info.threadsNote}\n`);
  return lib;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where a command writes, and the global flags. */
export interface CliContext {
  /** Results (stdout): what a program reads, JSON with --json. */
  out(text: string): void;
  /** Progress and messages for people (stderr). */
  err(text: string): void;
  json: boolean;
  debug: boolean;
  /** Whether stderr is a terminal (progress bars redraw in place). */
  tty: boolean;
}

/** A command that plugs into the frame. */
export interface CliCommand {
  name: string;
  summary: string;
  /** Declares arguments and options on the commander Command. */
  define(cmd: Command): void;
  /** Runs with the parsed arguments and options; returns an exit code (default 0). */
  run(ctx: CliContext, args: string[], opts: Record<string, unknown>, cmd: Command): Promise<number | void>;
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// Option value parsers: a bad value is a usage error that names the option.
export const parse = {
  int(min = 1): (v: string) => number {
    return (v) => {
      const n = Number(v);
      if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer ≥ ${min}, got ${v}`);
      return n;
    };
  },
  number(min: number, max = Infinity, minOpen = false): (v: string) => number {
    return (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || (minOpen ? n <= min : n < min) || n > max) throw new InvalidArgumentError(`Expected a number in ${minOpen ? '(' : '['}${min}, ${max}${max === Infinity ? ')' : ']'}, got ${v}`);
      return n;
    };
  },
  /** A dropout probability: [0, 1) (1 would drop everything). */
  probability(): (v: string) => number {
    return (v) => {
      const n = Number(v);
      if (v.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError(`Expected a probability in [0, 1), got ${v}`);
      return n;
    };
  },
  /** One of `choices`. */
  oneOf<T extends string>(choices: readonly T[]): (v: string) => T {
    return (v) => {
      if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`Expected ${choices.join(', ')}, got ${v}`);
      return v as T;
    };
  },
};

/**
 * The steps left for this run when `--steps` counts the model's total steps and the model (a
 * resumed checkpoint, or a new one at 0) has taken `step`: a usage error when nothing is left.
 */
export function stepsToRun(total: number | undefined, step: number): number | undefined {
  if (total === undefined) return undefined;
  if (total <= step) {
    throw new UsageError(step === 0 ? `Expected --steps ≥ 1, got ${total}` : `Expected --steps above ${step}, the checkpoint's step (--steps counts the model's total steps: --steps ${step + 1000} trains 1000 more), got ${total}`);
  }
  return total - step;
}

/**
 * The recurrent part of a train command, the same flags in every one: --cell (the applications'
 * cells, plus `extraCells` a command also takes), --layers (unless `layers: false`), --hidden and
 * --embedding (when the application has one). Each size flag is the short form of the API's PyTorch
 * name (SIZE_FLAGS); sizeOptions turns them into options.
 */
export function recurrentFlags(cmd: Command, o: { hidden: number; hiddenHelp?: string; layers?: boolean; embedding?: number; embeddingHelp?: string; extraCells?: readonly string[] }): Command {
  const cells = [...APP_CELLS, ...(o.extraCells ?? [])];
  cmd.option('--cell <cell>', cells.join(', '), parse.oneOf(cells), APP_CELLS[0]);
  if (o.layers !== false) cmd.option('--layers <n>', 'stacked recurrent layers', parse.int(1), 1);
  cmd.option('--hidden <h>', o.hiddenHelp ?? 'hidden size', parse.int(1), o.hidden);
  if (o.embedding !== undefined) cmd.option('--embedding <e>', o.embeddingHelp ?? 'embedding width', parse.int(1), o.embedding);
  return cmd;
}

/** Each size flag of recurrentFlags and the application option it sets (the same in every command). */
export const SIZE_FLAGS = [['layers', 'numLayers'], ['hidden', 'hiddenSize'], ['embedding', 'embeddingDim']] as const;

/** The application options of the size flags a command defines: { numLayers, hiddenSize, embeddingDim } (those present). */
export function sizeOptions(o: Record<string, unknown>): { numLayers?: number; hiddenSize?: number; embeddingDim?: number } {
  const out: Record<string, number> = {};
  for (const [flag, key] of SIZE_FLAGS) if (o[flag] !== undefined) out[key] = o[flag] as number;
  return out;
}

/**
 * --int8 and --threads, taken by every command that runs a model: quantize(model, { weights: 'int8' })
 * after loading it, and init({ threads }) (in each batch worker too).
 */
export function int8Flag(cmd: Command): Command {
  return cmd
    .option('--int8', 'run on int8 weights (the model is quantized after loading; results differ slightly from f32)')
    .option('--threads <n>', 'threads of one model call, sharing one wasm memory (results are bit-identical to one thread; with --workers, in each worker)', parse.int(1));
}

/**
 * Before a command parses: if its arguments hold an unknown flag, its required options stop being
 * required, so commander reports the flag (with its "did you mean") rather than a required option
 * the misspelt flag was meant to give: `train-lm --corpsu x` says "unknown option '--corpsu' (Did
 * you mean --corpus?)", not "required option '--corpus <file>' not specified".
 */
function unknownFlagsFirst(program: Command, sub: Command): void {
  const known = (flag: string) => [sub, program].some((c) => c.options.some((o) => o.long === flag || o.short === flag)) || flag === '--help' || flag === '-h';
  const args = program.args.slice(1);
  const end = args.indexOf('--');
  const unknown = (end < 0 ? args : args.slice(0, end)).some((a) => a.startsWith('-') && a.length > 1 && !known(a.split('=')[0]));
  if (unknown) for (const o of sub.options) o.mandatory = false;
}

/** The commander program with every registered command. */
export function buildProgram(commands: readonly CliCommand[], version: string, ctxFor: (cmd: Command) => CliContext, setCode: (code: number) => void): Command {
  const program = new Command('rnn-wasm')
    .description('Recurrent neural networks (RNN, LSTM, GRU) in WebAssembly: train, run and convert models.')
    .version(version, '-V, --version', 'print the version')
    .option('--json', 'machine-readable output on stdout')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preSubcommand', (self, sub) => unknownFlagsFirst(self, sub))
    // one line: the message, with commander's "(Did you mean …?)" line joined onto it
    .configureOutput({ outputError: (s, write) => write(s.trim().replace(/\n(\(Did you mean [^\n]*\))/, ' $1').split('\n')[0] + '\n') });
  for (const c of commands) {
    const cmd = program.command(c.name).description(c.summary).exitOverride();
    c.define(cmd);
    cmd.action(async (...all: unknown[]) => {
      const self = all[all.length - 1] as Command;
      let code: number | void;
      try {
        useThreads(self.opts().threads as number | undefined);
        code = await c.run(ctxFor(self), self.args, self.opts(), self);
      } catch (e) {
        throw explainFormatError(e, c.name, self);
      }
      setCode(code ?? EXIT_OK);
    });
  }
  return program;
}

/**
 * A FormatError while a command reads its model file, said plainly when the file is another
 * application's model (naming the command that reads it) or no model file at all.
 */
function explainFormatError(e: unknown, command: string, self: Command): unknown {
  if (!(e instanceof Error) || e.name !== 'FormatError') return e;
  const where = MODEL_ARGUMENT[command];
  if (where === undefined) return e;
  const opt = (flag: string) => self.opts()[camel(flag.slice(2))] as unknown;
  const aliased = where.alias === undefined ? undefined : opt(where.alias);
  const value = aliased ?? (typeof where.at === 'number' ? self.args[where.at] : opt(where.at));
  const more = where.more === undefined ? [] : opt(where.more);
  for (const path of [value, more].flat().filter((v): v is string => typeof v === 'string')) {
    const message = explainModelFile(command, path);
    if (message) {
      const plain = new Error(message);
      plain.name = e.name;
      plain.stack = `${plain.name}: ${message}\n(caused by) ${e.stack ?? e.message}`;
      return plain;
    }
  }
  return e;
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Commander prints the main help for `rnn-wasm trian-lm --help` (the flag wins over the unknown
 * command) and for `rnn-wasm help trian-lm`; drop the help request then, so the unknown command is
 * reported (with its suggestion) and exits 2.
 */
function unknownCommandFirst(argv: string[], commands: readonly CliCommand[]): string[] {
  const operands = argv.filter((a) => !a.startsWith('-'));
  const known = (name: string | undefined) => name === undefined || commands.some((c) => c.name === name);
  if (operands[0] === 'help' && !known(operands[1])) return [operands[1]];
  if (operands[0] !== 'help' && !known(operands[0]) && argv.some((a) => a === '--help' || a === '-h')) return argv.filter((a) => a !== '--help' && a !== '-h');
  return argv;
}

/** Runs the CLI on argv (without node and the script); resolves to the exit code. */
export async function runCli(commands: readonly CliCommand[], version: string, argv: string[], io: { out: (s: string) => void; err: (s: string) => void; tty: boolean }): Promise<number> {
  let code = EXIT_OK;
  let debug = argv.includes('--debug');
  const ctxFor = (cmd: Command): CliContext => {
    const g = cmd.optsWithGlobals() as { json?: boolean; debug?: boolean };
    debug = g.debug === true;
    return { out: io.out, err: io.err, json: g.json === true, debug, tty: io.tty };
  };
  const program = buildProgram(commands, version, ctxFor, (c) => (code = c));
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(unknownCommandFirst(argv, commands), { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE; // commander printed the message
    const err = e as Error;
    const usage = err instanceof UsageError;
    io.err(`rnn-wasm: ${usage ? 'usage error' : (err?.name ?? 'Error')}: ${String(err?.message ?? err).split('\n')[0]}`);
    if (debug && err?.stack) io.err(err.stack);
    return usage ? EXIT_USAGE : EXIT_FAILURE;
  }
}
