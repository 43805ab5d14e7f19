// What kind of file a command was given, for its error message. When loading a model file fails
// with a FormatError, the frame looks at the file the command reads its model from: another
// application's model names the commands that read it ("this is a SequenceClassifier file: use
// `rnn-wasm classify`"), and a file that is no model at all says so plainly, instead of the
// library's advice (`load it with deserializeGraph`) or a protobuf decoder's complaint.
// Two tables: the kinds of model file (how each is recognised from its header, which commands read
// it) and where each command takes its model file.
import { readFileSync, statSync } from 'node:fs';

/** A kind of file an rnn-wasm command can be given. */
export interface ModelKind {
  /** The name users know (the class that reads it). */
  name: string;
  /** Recognises the kind from an .rnnw header's metadata. */
  matches(metadata: Record<string, unknown>): boolean;
  /** The commands that use this kind (each `train-…` command also takes it with --resume). */
  readers: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The applications' files, by the metadata their save() writes. */
export const MODEL_KINDS: readonly ModelKind[] = [
  { name: 'CharLM', matches: (m) => isObject(m.charlm), readers: ['sample', 'complete', 'eval-lm'] },
  { name: 'SequenceClassifier', matches: (m) => m.app === 'classifier', readers: ['classify'] },
  { name: 'SequenceLabeler', matches: (m) => m.app === 'labeler', readers: ['label'] },
  { name: 'Seq2Seq', matches: (m) => isObject(m.seq2seq), readers: ['translate'] },
  { name: 'ConditionalGenerator', matches: (m) => isObject(m.generator), readers: ['generate'] },
  { name: 'Forecaster', matches: (m) => isObject(m.forecaster), readers: ['forecast'] },
];

/** RWKV-7 checkpoints: safetensors with the official names (or saved by rnn-wasm), read by the LM commands. */
export const RWKV7_KIND: ModelKind = { name: 'RWKV7', matches: () => false, readers: ['sample', 'complete', 'eval-lm'] };

/** What reads a model file of no application (a layer, Sequential or graph model, or an ONNX/safetensors/tfjs file). */
const PLAIN_READERS = ['info', 'convert'];

/**
 * Where each command takes its model file (a positional argument's index or an option) and which
 * kind it reads; `any` reads every model format; `alias`: an option that, when given, holds the
 * model file(s) instead (translate's older `--model`); `more`: an option with further model files. test/cli/messages.test.ts checks that every
 * registered command with a model argument is listed.
 */
export const MODEL_ARGUMENT: Readonly<Record<string, { at: number | `--${string}`; reads: string; alias?: `--${string}`; more?: `--${string}` }>> = {
  sample: { at: 0, reads: 'CharLM' },
  complete: { at: 0, reads: 'CharLM' },
  'eval-lm': { at: 0, reads: 'CharLM' },
  'train-lm': { at: '--resume', reads: 'CharLM' },
  classify: { at: 0, reads: 'SequenceClassifier' },
  'train-classifier': { at: '--resume', reads: 'SequenceClassifier' },
  label: { at: 0, reads: 'SequenceLabeler' },
  'train-labeler': { at: '--resume', reads: 'SequenceLabeler' },
  translate: { at: 0, reads: 'Seq2Seq', alias: '--model', more: '--ensemble' },
  'train-seq2seq': { at: '--resume', reads: 'Seq2Seq' },
  generate: { at: 0, reads: 'ConditionalGenerator' },
  'train-generator': { at: '--resume', reads: 'ConditionalGenerator' },
  forecast: { at: 0, reads: 'Forecaster' },
  'train-forecaster': { at: '--resume', reads: 'Forecaster' },
  serve: { at: 0, reads: 'any', alias: '--model', more: '--ensemble' },
  info: { at: 0, reads: 'any' },
  convert: { at: 0, reads: 'any' },
};

/** What a file is, from its first bytes (and an .rnnw file's JSON header). */
export type Sniffed = { kind: ModelKind } | { plain: string } | { notModel: string } | null;

const MAGIC = 'RNNWASM\0';

/** Reads what `path` holds: an application's model, a plain model file, no model file, or null (unreadable, or cannot tell). */
export function sniffFile(path: string): Sniffed {
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) return null;
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  return sniff(bytes);
}

export function sniff(bytes: Uint8Array): Sniffed {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 8));
  if (head === MAGIC) {
    if (bytes.length < 16) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const jlen = view.getUint32(12, true);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + jlen)));
    } catch {
      return null; // a damaged .rnnw file: the loader's own message says what is wrong
    }
    const metadata = isObject(header) && isObject(header.metadata) ? header.metadata : {};
    const kind = MODEL_KINDS.find((k) => k.matches(metadata));
    if (kind) return { kind };
    const type = isObject(header) && isObject(header.model) ? String(header.model.type) : 'unknown';
    return { plain: `an .rnnw ${type} model of no application` };
  }
  if (bytes.length >= 9) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
    if (n > 1 && 8 + n <= bytes.length && bytes[8] === 0x7b) {
      const header = new TextDecoder('utf-8').decode(bytes.subarray(8, 8 + n));
      if (/"format":"rnn-wasm rwkv7"|"blocks\.0\.att\.r_k"/.test(header)) return { kind: RWKV7_KIND };
      return { plain: 'a safetensors file' };
    }
  }
  // a .pth (torch.save's zip; its pickle, with the tensor names, comes first) of an RWKV-7
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    if (new TextDecoder('latin1').decode(bytes.subarray(0, 1 << 20)).includes('blocks.0.att.r_k')) return { kind: RWKV7_KIND };
  }
  const text = new TextDecoder('utf-8').decode(bytes.subarray(0, 4096)).trimStart();
  if (text.startsWith('{') && /"modelTopology"|"weightsManifest"/.test(text)) return { plain: 'a tfjs model.json' };
  // an ONNX ModelProto opens with field 1 (ir_version, a varint): byte 0x08
  if (bytes[0] === 0x08) return null;
  return { notModel: describeBytes(bytes) };
}

/** "empty", "text starting "…"" or "binary data" — what a non-model file looks like. */
function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const sample = bytes.subarray(0, 256);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(sample);
  } catch {
    return `${bytes.length} bytes of binary data`;
  }
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) return `${bytes.length} bytes of binary data`;
  const first = text.trim().split('\n')[0].slice(0, 40);
  return `text starting ${JSON.stringify(first)}`;
}

const use = (readers: string[]) => `use ${readers.map((r) => `\`rnn-wasm ${r}\``).join(' or ')}`;

/**
 * A plainer message for a FormatError of `command` reading `path`, or null when the file is of the
 * kind the command reads (then the loader's message, about what is damaged, stands).
 */
export function explainModelFile(command: string, path: string): string | null {
  const where = MODEL_ARGUMENT[command];
  if (!where) return null;
  const s = sniffFile(path);
  if (!s) return null;
  const wanted = where.reads === 'any' ? 'a model file (.rnnw, .onnx, .safetensors or a tfjs model.json)' : `a ${where.reads} model file`;
  if ('notModel' in s) return `Expected ${wanted}, got ${s.notModel}: ${path} is not an rnn-wasm model file`;
  // a .pth is no format `info`/`convert` read: an RWKV-7 one goes to the commands that do
  if (where.reads === 'any') return 'kind' in s && s.kind === RWKV7_KIND ? `Expected ${wanted}, got an RWKV-7 checkpoint (${path}): ${use(RWKV7_KIND.readers)}` : null;
  // the character-LM commands read RWKV-7 files too
  const reads = s && 'kind' in s && s.kind === RWKV7_KIND && where.reads === 'CharLM' ? 'RWKV7' : where.reads;
  if ('kind' in s) return s.kind.name === reads ? null : `Expected ${wanted}, got a ${s.kind.name} file (${path}): ${use(s.kind.readers)}`;
  return `Expected ${wanted}, got ${s.plain} (${path}): ${use(PLAIN_READERS)}`;
}
