// PyTorch .pth files as torch.save writes them since 1.6: a zip (entries stored, not compressed) of
// `<name>/data.pkl`, a pickle of the state_dict whose tensors refer to raw storages `<name>/data/<key>`
// by persistent id. This reads the part of pickle a state_dict uses (protocol 2–4: dicts, tuples,
// ints, strings, OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter, the typed
// storages) and nothing else: any other global is a FormatError, so no code of the file runs.
// Tensors must be contiguous views (any storage offset); float storages (F32, F16, BF16, F64) only.
// ZIP64 archives (files over 4 GiB) are not read.
import { FormatError } from './format';
import { toFloat32, type NamedTensor, type SafetensorsDType } from './safetensors';

const fail = (msg: string): never => {
  throw new FormatError(msg);
};

/** The entries of a zip archive whose entries are stored (method 0): name → bytes. */
export function readStoredZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // end of central directory: the last 0x06054b50 within 64 KiB + 22 bytes of the end
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (v.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('Expected a zip archive (a .pth written by torch.save), got no end-of-central-directory record');
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  if (count === 0xffff || p === 0xffffffff) fail('Expected a zip archive under 4 GiB, got a ZIP64 archive (not supported: convert the .pth to safetensors)');
  const out = new Map<string, Uint8Array>();
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || v.getUint32(p, true) !== 0x02014b50) fail(`Expected central directory entry ${k} of the zip at byte ${p}, got another record (truncated or corrupt)`);
    const method = v.getUint16(p + 10, true);
    const size = v.getUint32(p + 20, true);
    const nlen = v.getUint16(p + 28, true);
    const elen = v.getUint16(p + 30, true);
    const clen = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    const name = new TextDecoder('utf-8').decode(bytes.subarray(p + 46, p + 46 + nlen));
    if (method !== 0) fail(`Expected stored (uncompressed) zip entries as torch.save writes, got method ${method} for ${name}`);
    if (local + 30 > bytes.length || v.getUint32(local, true) !== 0x04034b50) fail(`Expected the local header of ${name} at byte ${local}, got another record`);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    if (start + size > bytes.length) fail(`Expected ${size} bytes of ${name} within the file, got a file of ${bytes.length} bytes (truncated)`);
    out.set(name, bytes.subarray(start, start + size));
    p += 46 + nlen + elen + clen;
  }
  return out;
}

const STORAGES: Record<string, SafetensorsDType> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
};
const BYTES: Partial<Record<SafetensorsDType, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

interface Global {
  global: string;
}
interface StorageRef {
  dtype: SafetensorsDType;
  key: string;
}
interface TensorRef {
  tensor: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}
type Value = unknown;

/** Runs the pickle of a state_dict: a Map of name → TensorRef. */
function unpickle(data: Uint8Array): Map<string, TensorRef> {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: Value[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Value>();
  let i = 0;
  const u8 = (): number => data[i++];
  const text = (n: number): string => {
    if (i + n > data.length) fail('Expected a complete pickle, got one cut short');
    const s = new TextDecoder('utf-8').decode(data.subarray(i, i + n));
    i += n;
    return s;
  };
  const line = (): string => {
    const e = data.indexOf(0x0a, i);
    if (e < 0) fail('Expected a newline-terminated name in the pickle, got none');
    return text(e - i + 1).slice(0, -1);
  };
  const pop = (): Value => {
    if (!stack.length) fail('Expected a value on the pickle stack, got an empty stack');
    return stack.pop();
  };
  const popMark = (): Value[] => {
    const m = marks.pop();
    if (m === undefined) fail('Expected a MARK in the pickle, got none');
    return stack.splice(m!);
  };
  const call = (fn: Value, args: Value): Value => {
    const name = (fn as Global)?.global;
    const a = args as Value[];
    if (name === 'collections OrderedDict') return new Map();
    if (name === 'torch._utils _rebuild_tensor_v2') return { tensor: a[0] as StorageRef, offset: a[1] as number, size: a[2] as number[], stride: a[3] as number[] } satisfies TensorRef;
    if (name === 'torch._utils _rebuild_parameter') return a[0];
    return fail(`Expected a state_dict of tensors in the .pth, got a call of ${name ?? 'a non-global'} (not read: only tensors, OrderedDict and storages are)`);
  };
  for (;;) {
    if (i >= data.length) fail('Expected the pickle to end with STOP, got its end');
    const op = u8();
    switch (op) {
      case 0x80: i++; break; // PROTO
      case 0x95: i += 8; break; // FRAME (protocol 4)
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; } // TUPLE3
      case 0x71: memo.set(u8(), stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(v.getUint32(i, true), stack[stack.length - 1]); i += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: stack.push(memo.get(u8())); break; // BINGET
      case 0x6a: stack.push(memo.get(v.getUint32(i, true))); i += 4; break; // LONG_BINGET
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(v.getUint16(i, true)); i += 2; break; // BININT2
      case 0x4a: stack.push(v.getInt32(i, true)); i += 4; break; // BININT
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const n = u8();
        let x = 0n;
        for (let k = n - 1; k >= 0; k--) x = (x << 8n) | BigInt(data[i + k]);
        if (n && data[i + n - 1] & 0x80) x -= 1n << BigInt(8 * n);
        i += n;
        stack.push(Number(x));
        break;
      }
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4e: stack.push(null); break; // NONE
      case 0x47: stack.push(v.getFloat64(i, false)); i += 8; break; // BINFLOAT
      case 0x58: { const n = v.getUint32(i, true); i += 4; stack.push(text(n)); break; } // BINUNICODE
      case 0x8c: { const n = u8(); stack.push(text(n)); break; } // SHORT_BINUNICODE
      case 0x55: { const n = u8(); stack.push(text(n)); break; } // SHORT_BINSTRING
      case 0x63: case 0x93: { // GLOBAL, STACK_GLOBAL
        const g = op === 0x63 ? `${line()} ${line()}` : ((n: Value, m: Value) => `${m as string} ${n as string}`)(pop(), pop());
        const st = /^torch (\w+Storage)$/.exec(g);
        stack.push(st ? { storage: st[1] } : { global: g });
        break;
      }
      case 0x51: { // BINPERSID: ('storage', storage type, key, location, numel)
        const pid = pop() as Value[];
        const type = (pid?.[1] as { storage?: string })?.storage;
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !type) fail('Expected a storage persistent id in the .pth, got another');
        const dtype = STORAGES[type!];
        if (!dtype) fail(`Expected float storages (FloatStorage, HalfStorage, BFloat16Storage, DoubleStorage) in the .pth, got ${type}`);
        stack.push({ dtype, key: String(pid[2]) } satisfies StorageRef);
        break;
      }
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ
      case 0x62: pop(); break; // BUILD: the state (OrderedDict's _metadata) is not needed
      case 0x73: { const val = pop(); const key = pop(); (stack[stack.length - 1] as Map<Value, Value>).set(key, val); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = stack[stack.length - 1] as Map<Value, Value>;
        for (let k = 0; k + 1 < items.length; k += 2) d.set(items[k], items[k + 1]);
        break;
      }
      case 0x61: { const x = pop(); (stack[stack.length - 1] as Value[]).push(x); break; } // APPEND
      case 0x65: { const items = popMark(); (stack[stack.length - 1] as Value[]).push(...items); break; } // APPENDS
      case 0x2e: { // STOP
        const top = pop();
        if (!(top instanceof Map)) fail('Expected the .pth to hold a state_dict (a dict of tensors), got another object');
        return top as Map<string, TensorRef>;
      }
      default:
        fail(`Expected a pickle opcode a state_dict uses, got 0x${op.toString(16)} at byte ${i - 1}`);
    }
  }
}

/** Reads a .pth state_dict into float32 tensors (names in file order). */
export function readPth(bytes: Uint8Array): Record<string, NamedTensor> {
  const files = readStoredZip(bytes);
  const pkl = [...files.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) fail('Expected <name>/data.pkl in the .pth archive, got none (a .pth from torch.save before 1.6 is not read)');
  const root = pkl!.slice(0, -'data.pkl'.length);
  const dict = unpickle(files.get(pkl!)!);
  const out: Record<string, NamedTensor> = Object.create(null);
  for (const [name, t] of dict) {
    if (typeof name !== 'string' || !t || typeof t !== 'object' || !('tensor' in t)) fail(`Expected tensors in the state_dict, got ${String(name)} holding another value`);
    const { tensor: s, offset, size, stride } = t;
    const raw = files.get(`${root}data/${s.key}`);
    if (!raw) fail(`Expected the storage ${root}data/${s.key} of ${name} in the archive, got none`);
    // row-major contiguous: the last stride 1, each earlier one the product of the later sizes
    let want = 1;
    for (let d = size.length - 1; d >= 0; d--) {
      if (size[d] !== 1 && stride[d] !== want) fail(`Expected ${name} to be a contiguous tensor, got strides [${stride.join(', ')}] for size [${size.join(', ')}]`);
      want *= size[d];
    }
    const eb = BYTES[s.dtype]!;
    const begin = offset * eb;
    const end = begin + want * eb;
    if (end > raw!.length) fail(`Expected ${name} within its storage (${raw!.length} bytes), got elements up to byte ${end}`);
    out[name] = { data: toFloat32(name, { dtype: s.dtype, shape: [...size], bytes: raw!.subarray(begin, end) }), shape: [...size] };
  }
  return out;
}
