// Seeded mutators for the reader fuzzers: byte-level damage (truncate, flips, splice, insert,
// delete), JSON mutations (a field set to a hostile value, deleted, a list duplicated or emptied)
// and protobuf varint mutations found by walking the wire format. Pure functions of (input, rng),
// so a case is reproduced from (reader, seed, index) alone.

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[next.int(list.length)];
  return next;
}

/** Values a hostile or careless file puts where a number, string, list or object belongs. */
export const HOSTILE = [
  null, -1, 0, 1, 1e7, 1e9, 15000, 2 ** 31, 2 ** 32 + 1, 2 ** 53 + 2, 1e308, -1e308, 0.5, -0.0001,
  'abc', '', '__proto__', 'constructor', true, false, [], {}, [null], [-1], [1e9, 1e9], [0], { length: 1e9 },
];

// ---- bytes ----
export function truncate(b, r) {
  return b.slice(0, r.int(b.length));
}
export function flip(b, r) {
  const out = b.slice();
  const n = 1 + r.int(8);
  for (let i = 0; i < n; i++) out[r.int(out.length)] ^= 1 << r.int(8);
  return out;
}
export function setBytes(b, r) {
  const out = b.slice();
  const at = r.int(out.length);
  const v = r.pick([0x00, 0xff, 0x7f, 0x80]);
  out.fill(v, at, Math.min(out.length, at + 1 + r.int(8)));
  return out;
}
export function splice(b, r, other = b) {
  const from = r.int(other.length);
  const len = 1 + r.int(Math.min(64, other.length - from));
  const at = r.int(b.length + 1);
  const out = new Uint8Array(b.length + len);
  out.set(b.subarray(0, at));
  out.set(other.subarray(from, from + len), at);
  out.set(b.subarray(at), at + len);
  return out;
}
export function cut(b, r) {
  const at = r.int(b.length);
  const len = 1 + r.int(Math.min(64, b.length - at));
  const out = new Uint8Array(b.length - len);
  out.set(b.subarray(0, at));
  out.set(b.subarray(at + len), at);
  return out;
}
export const BYTE_MUTATORS = [truncate, flip, setBytes, splice, cut];

/** One or a few byte mutations. */
export function mutateBytes(b, r, other) {
  let out = b;
  const n = 1 + r.int(3);
  for (let i = 0; i < n && out.length > 0; i++) {
    const m = r.pick(BYTE_MUTATORS);
    out = m === splice ? splice(out, r, other ?? out) : m(out, r);
  }
  return out;
}

// ---- JSON ----
/** Every [parent, key] pair of a parsed JSON value. */
function slots(v, out = []) {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push([v, k]);
      slots(v[k], out);
    }
  }
  return out;
}

/** Mutates a parsed JSON value in place: a field hostile, deleted, duplicated or scaled. */
export function mutateJson(v, r) {
  const all = slots(v);
  if (!all.length) return v;
  const n = 1 + r.int(2);
  for (let i = 0; i < n; i++) {
    const [parent, key] = r.pick(all);
    const cur = parent[key];
    const op = r.int(6);
    if (op === 0 && !Array.isArray(parent)) delete parent[key];
    else if (op === 1 && typeof cur === 'number') parent[key] = cur * r.pick([-1, 0, 1000, 1e6, 1e12]) + r.pick([0, 1, -1, 0.5]);
    else if (op === 2 && Array.isArray(cur) && cur.length) cur.push(...cur.slice(0, 1 + r.int(cur.length)));
    else if (op === 3 && Array.isArray(cur)) cur.length = r.int(cur.length + 1);
    else parent[key] = structuredClone(r.pick(HOSTILE));
  }
  return v;
}

// ---- protobuf (wire format, no schema) ----
function readVarint(b, p) {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (p >= b.length) return null;
    const x = b[p++];
    v |= BigInt(x & 0x7f) << shift;
    shift += 7n;
    if (!(x & 0x80)) return { v, p };
  }
  return null;
}
function writeVarint(v) {
  let x = BigInt.asUintN(64, v);
  const out = [];
  do {
    let byte = Number(x & 0x7fn);
    x >>= 7n;
    if (x) byte |= 0x80;
    out.push(byte);
  } while (x);
  return out;
}

/** Parses a message into fields { tag, wire, v } (v: bigint, bytes, or child fields), or false. */
export function parseProto(b, from = 0, to = b.length, depth = 0) {
  const fields = [];
  let p = from;
  while (p < to) {
    const tag = readVarint(b, p);
    if (!tag || tag.v === 0n) return false;
    p = tag.p;
    const wire = Number(tag.v & 7n);
    if (wire === 0) {
      const val = readVarint(b, p);
      if (!val || val.p > to) return false;
      fields.push({ tag: tag.v, wire, v: val.v });
      p = val.p;
    } else if (wire === 2) {
      const len = readVarint(b, p);
      if (!len || len.p + Number(len.v) > to) return false;
      const start = len.p;
      const end = start + Number(len.v);
      const kids = depth < 8 && end > start ? parseProto(b, start, end, depth + 1) : false;
      fields.push({ tag: tag.v, wire, v: kids || b.slice(start, end) });
      p = end;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (p + n > to) return false;
      fields.push({ tag: tag.v, wire, v: b.slice(p, p + n) });
      p += n;
    } else return false;
  }
  return fields;
}
export function encodeProto(fields) {
  const parts = [];
  for (const f of fields) {
    parts.push(writeVarint(f.tag));
    if (f.wire === 0) parts.push(writeVarint(f.v));
    else if (f.wire === 2) {
      const body = Array.isArray(f.v) ? encodeProto(f.v) : f.v;
      parts.push(writeVarint(BigInt(body.length)), body);
    } else parts.push(f.v);
  }
  const out = new Uint8Array(parts.reduce((n, q) => n + q.length, 0));
  let o = 0;
  for (const q of parts) {
    out.set(q, o);
    o += q.length;
  }
  return out;
}
/** The varints of a packed repeated field (e.g. ONNX dims), or null when the bytes are not one. */
export function unpackVarints(b) {
  const out = [];
  for (let p = 0; p < b.length; ) {
    const x = readVarint(b, p);
    if (!x) return null;
    out.push(x.v);
    p = x.p;
  }
  return out;
}
/** Packed repeated varints (negative numbers as 64-bit two's complement). */
export function packVarints(values) {
  return Uint8Array.from(values.flatMap((v) => writeVarint(BigInt.asUintN(64, BigInt(v)))));
}

/** Every integer slot: plain varint fields, and elements of byte fields that read as packed varints. */
function intSlots(fields, out = []) {
  for (const f of fields) {
    if (f.wire === 0) out.push({ set: (v) => (f.v = v) });
    else if (Array.isArray(f.v)) intSlots(f.v, out);
    else if (f.wire === 2 && f.v.length && f.v.length <= 64) {
      const ints = unpackVarints(f.v);
      if (ints) ints.forEach((_, i) => out.push({ set: (v) => (f.v = packVarints(ints.map((x, j) => (j === i ? v : x)))) }));
    }
  }
  return out;
}

const HOSTILE_INTS = [-1n, -2n, 0n, 1n, 2n, 3n, 7n, 1n << 31n, 1n << 40n, 1n << 62n, 15000n, 100000n];

/**
 * Replaces one or two integers (a dim, an attribute int or perm entry, an enum) by hostile values
 * and re-encodes the message with every enclosing length fixed, so the decoder reads it and the
 * importer meets the value.
 */
export function mutateVarint(b, r) {
  const tree = parseProto(b);
  const slots = tree ? intSlots(tree) : [];
  if (!slots.length) return mutateBytes(b, r);
  const n = 1 + r.int(2);
  for (let i = 0; i < n; i++) r.pick(slots).set(BigInt.asUintN(64, r.pick(HOSTILE_INTS)));
  return encodeProto(tree);
}
