// The RWKV "World" tokenizer (rwkv_vocab_v20230424.txt): one token a line, `<id> <python literal> <byte
// length>`, the literal a str ('…' or "…", UTF-8 encoded) or a bytes literal (b'…'). Encoding is a
// greedy longest match over the UTF-8 bytes (a byte trie), as the official RWKV_TOKENIZER does;
// decoding concatenates the tokens' bytes. Token 0 (end of text) is not in the file.
import { FormatError } from '../io/format';
import { ValueError, show } from '../errors';

interface TrieNode {
  id: number; // token ending here, −1 if none
  next: Map<number, TrieNode>;
}

const SIMPLE: Record<string, number> = { '\\': 0x5c, "'": 0x27, '"': 0x22, n: 0x0a, t: 0x09, r: 0x0d, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b, '0': 0 };

/** Parses one Python str/bytes literal into its bytes (str: UTF-8). */
function parseLiteral(s: string, line: number): Uint8Array {
  let i = 0;
  let isBytes = false;
  if (s[0] === 'b' || s[0] === 'B') {
    isBytes = true;
    i = 1;
  }
  const q = s[i];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q || s.length < i + 2) {
    throw new FormatError(`Expected a quoted Python string or bytes literal on vocabulary line ${line}, got ${JSON.stringify(s)}`);
  }
  const body = s.slice(i + 1, -1);
  const out: number[] = [];
  const pushCode = (cp: number): void => {
    if (isBytes) {
      if (cp > 0xff) throw new FormatError(`Expected byte values in the bytes literal on vocabulary line ${line}, got code point ${cp}`);
      out.push(cp);
    } else out.push(...new TextEncoder().encode(String.fromCodePoint(cp)));
  };
  for (let j = 0; j < body.length; ) {
    const ch = body[j];
    if (ch !== '\\') {
      const cp = body.codePointAt(j)!;
      pushCode(cp);
      j += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[j + 1];
    const hex = (n: number): number => {
      const h = body.slice(j + 2, j + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new FormatError(`Expected ${n} hex digits after \\${e} on vocabulary line ${line}, got ${JSON.stringify(h)}`);
      return parseInt(h, 16);
    };
    if (e === 'x') {
      pushCode(hex(2));
      j += 4;
    } else if (e === 'u' && !isBytes) {
      pushCode(hex(4));
      j += 6;
    } else if (e === 'U' && !isBytes) {
      pushCode(hex(8));
      j += 10;
    } else if (e !== undefined && Object.hasOwn(SIMPLE, e)) {
      out.push(SIMPLE[e]);
      j += 2;
    } else throw new FormatError(`Expected a known escape on vocabulary line ${line}, got \\${e ?? ''}`);
  }
  return Uint8Array.from(out);
}

/**
 * The RWKV "World" tokenizer: the vocabulary file format of `rwkv_vocab_v20230424.txt` (one token a
 * line: id, the token as a Python str or bytes literal, its byte length), encoding by greedy
 * longest match over UTF-8 bytes (a trie), as the official RWKV_TOKENIZER does.
 */
export class WorldTokenizer {
  /** Token id → bytes. */
  private readonly tokens = new Map<number, Uint8Array>();
  private readonly root: TrieNode = { id: -1, next: new Map() };
  /** One more than the largest id (the vocabulary size a model needs at least). */
  readonly size: number;
  /** The vocabulary file's text (what a saved model stores). */
  text = '';

  private constructor(entries: [number, Uint8Array][]) {
    let max = 0;
    for (const [id, bytes] of entries) {
      this.tokens.set(id, bytes);
      max = Math.max(max, id);
      let n = this.root;
      for (const byte of bytes) {
        let nx = n.next.get(byte);
        if (!nx) {
          nx = { id: -1, next: new Map() };
          n.next.set(byte, nx);
        }
        n = nx;
      }
      n.id = id;
    }
    this.size = max + 1;
  }

  /** Reads the vocabulary file's text (FormatError naming the line when one is malformed). */
  static fromText(text: string): WorldTokenizer {
    if (typeof text !== 'string') throw new ValueError(`Expected the vocabulary file's text as a string, got ${show(text)}`);
    const entries: [number, Uint8Array][] = [];
    const seen = new Set<number>();
    const bytesSeen = new Set<string>();
    const lines = text.split('\n');
    for (let k = 0; k < lines.length; k++) {
      const l = lines[k].replace(/\r$/, '');
      if (l === '') continue;
      const a = l.indexOf(' ');
      const z = l.lastIndexOf(' ');
      if (a <= 0 || z <= a) throw new FormatError(`Expected '<id> <literal> <length>' on vocabulary line ${k + 1}, got ${JSON.stringify(l.slice(0, 60))}`);
      const id = Number(l.slice(0, a));
      const len = Number(l.slice(z + 1));
      if (!Number.isSafeInteger(id) || id < 1) throw new FormatError(`Expected a positive integer token id on vocabulary line ${k + 1}, got ${JSON.stringify(l.slice(0, a))}`);
      if (seen.has(id)) throw new FormatError(`Expected unique token ids, got ${id} again on vocabulary line ${k + 1}`);
      const bytes = parseLiteral(l.slice(a + 1, z), k + 1);
      if (bytes.length !== len || bytes.length === 0) throw new FormatError(`Expected ${len} bytes for token ${id} on vocabulary line ${k + 1}, got ${bytes.length}`);
      const key = bytes.join(',');
      if (bytesSeen.has(key)) throw new FormatError(`Expected each token's bytes once, got token ${id} repeating an earlier token on vocabulary line ${k + 1}`);
      seen.add(id);
      bytesSeen.add(key);
      entries.push([id, bytes]);
    }
    for (let b = 0; b < 256; b++) {
      if (!bytesSeen.has(String(b))) throw new FormatError(`Expected every single byte as a token (the greedy match needs them), got none for byte ${b}`);
    }
    const t = new WorldTokenizer(entries);
    t.text = text;
    return t;
  }

  /** Greedy longest-match token ids of the UTF-8 bytes of `text`. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new ValueError(`Expected text to be a string, got ${show(text)}`);
    return this.encodeBytes(new TextEncoder().encode(text));
  }

  /** Greedy longest-match token ids of `bytes`. */
  encodeBytes(bytes: Uint8Array): number[] {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; ) {
      let n = this.root;
      let best = -1;
      let bestLen = 0;
      for (let j = i; j < bytes.length; j++) {
        const nx = n.next.get(bytes[j]);
        if (!nx) break;
        n = nx;
        if (n.id >= 0) {
          best = n.id;
          bestLen = j - i + 1;
        }
      }
      out.push(best); // every single byte is a token (checked when read), so best ≥ 0
      i += bestLen;
    }
    return out;
  }

  /** The bytes of `ids` concatenated (ValueError for an id outside the vocabulary; 0 decodes to nothing). */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === 0) continue;
      const t = this.tokens.get(ids[i]);
      if (!t) throw new ValueError(`Expected ids[${i}] to be a token of the vocabulary, got ${show(ids[i])}`);
      parts.push(t);
      n += t.length;
    }
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** The text of `ids` (invalid UTF-8, e.g. a cut multi-byte character, becomes U+FFFD). */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder('utf-8').decode(this.decodeBytes(ids));
  }
}

/**
 * A character vocabulary for char-level RWKV-7 models: id i is the i-th character (code point) of
 * `chars`. Encoding text with a character outside it is a ValueError naming the character.
 */
export class CharTokenizer {
  /** The characters, in id order. */
  readonly chars: string[];
  private readonly index = new Map<string, number>();
  constructor(chars: Iterable<string>) {
    this.chars = [...chars];
    if (this.chars.length === 0) throw new ValueError('Expected at least one character in the vocabulary, got none');
    this.chars.forEach((ch, i) => {
      if (typeof ch !== 'string' || [...ch].length !== 1) throw new ValueError(`Expected single characters in the vocabulary, got ${JSON.stringify(ch)} at ${i}`);
      if (this.index.has(ch)) throw new ValueError(`Expected distinct characters in the vocabulary, got ${JSON.stringify(ch)} twice`);
      this.index.set(ch, i);
    });
  }
  /** The distinct characters of `text`, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    if (typeof text !== 'string') throw new ValueError(`Expected text to be a string, got ${show(text)}`);
    return new CharTokenizer([...new Set(text)].sort());
  }
  /** Number of characters (the model's vocabulary size). */
  get size(): number {
    return this.chars.length;
  }
  /** The ids of text's characters; a character outside the vocabulary is a ValueError. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new ValueError(`Expected text to be a string, got ${show(text)}`);
    return [...text].map((ch) => {
      const i = this.index.get(ch);
      if (i === undefined) throw new ValueError(`Expected characters of the model's vocabulary, got ${JSON.stringify(ch)} (not among its ${this.chars.length})`);
      return i;
    });
  }
  /** The text of ids (each an id of the vocabulary). */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const ch = this.chars[ids[i]];
      if (ch === undefined) throw new ValueError(`Expected ids[${i}] in [0, ${this.chars.length}), got ${show(ids[i])}`);
      s += ch;
    }
    return s;
  }
}

/** A vocabulary of an RWKV-7 model. */
export type Rwkv7Tokenizer = WorldTokenizer | CharTokenizer;
