// The CLI frame: a registry of commands on commander. Each command declares its arguments and
// options and a run(); the frame adds the global flags (--json, --debug), --help on every
// command, --version, and maps every outcome to an exit code: 0 ok, 1 failure, 2 usage.
// Errors print as one line; the stack only with --debug.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CELL_KINDS as APP_CELLS } from '../layers/cells';

/**
 * The library, loaded and initialised on first use (so --help and usage errors do not load the
 * wasm). Commands import it through here; the build points it at the package's own dist/index.
 */
export async function library(): Promise<typeof import('../index')> {
  const mod = await import('../index');
  // from the CJS build, import() of index.cjs gives its exports as `default`
  const lib = typeof mod.init === 'function' ? mod : (mod as unknown as { default: typeof mod }).default;
  await lib.init();
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

/** --cell, --layers (unless `layers: false`) and --hidden, the recurrent part of a train command. */
export function recurrentFlags(cmd: Command, o: { hidden: number; hiddenHelp?: string; layers?: boolean }): Command {
  cmd.option('--cell <cell>', APP_CELLS.join(', '), parse.oneOf(APP_CELLS), 'lstm');
  if (o.layers !== false) cmd.option('--layers <n>', 'stacked recurrent layers', parse.int(1), 1);
  return cmd.option('--hidden <h>', o.hiddenHelp ?? 'hidden size', parse.int(1), o.hidden);
}

/** --int8, taken by every command that runs a model: quantize(model, { weights: 'int8' }) after loading it. */
export function int8Flag(cmd: Command): Command {
  return cmd.option('--int8', 'run on int8 weights (the model is quantized after loading; results differ slightly from f32)');
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
    .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') });
  for (const c of commands) {
    const cmd = program.command(c.name).description(c.summary).exitOverride();
    c.define(cmd);
    cmd.action(async (...all: unknown[]) => {
      const self = all[all.length - 1] as Command;
      const code = await c.run(ctxFor(self), self.args, self.opts(), self);
      setCode(code ?? EXIT_OK);
    });
  }
  return program;
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
    await program.parseAsync(argv, { from: 'user' });
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
