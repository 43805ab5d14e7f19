// The character vocabulary of a CharLM: token id ↔ character (a Unicode code point), with an
// optional `<unk>` token for characters outside it. Positions in messages count characters
// (code points), not UTF-16 units.
import { ValueError, show } from '../../errors';

/** What happens to a character outside the vocabulary: map it to `<unk>`, or throw. */
export type UnknownPolicy = 'unk' | 'error';

/** The token that stands for characters outside a vocabulary (id 0 under the `unk` policy). */
export const UNK = '<unk>';

/** Shows a character readably in an error message (quoted, with its code point). */
export function showChar(c: string): string {
  const cp = c.codePointAt(0)!;
  const shown = c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : c;
  return `'${shown}' (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * A CharLM's characters and their ids (code points; `<unk>` first under the `unk` policy): encodes text to
 * ids and back.
 */
export class Vocabulary {
  /** Token strings by id: single characters, plus `<unk>` at id 0 under the 'unk' policy. */
  readonly tokens: readonly string[];
  /** What happens to characters outside the vocabulary: `'unk'` maps them to `<unk>`, `'error'` throws. */
  readonly unknown: UnknownPolicy;
  private readonly index: Map<string, number>;

  constructor(tokens: readonly string[], unknown: UnknownPolicy) {
    if (unknown !== 'unk' && unknown !== 'error') throw new ValueError(`Expected unknown to be 'unk' or 'error', got ${show(unknown)}`);
    if (!Array.isArray(tokens) || tokens.length === 0) throw new ValueError(`Expected vocabulary to be a non-empty array of characters, got ${show(tokens)}`);
    const index = new Map<string, number>();
    tokens.forEach((t, i) => {
      const single = typeof t === 'string' && [...t].length === 1;
      if (!single && !(t === UNK && unknown === 'unk')) throw new ValueError(`Expected vocabulary[${i}] to be one character, got ${JSON.stringify(t)}`);
      if (index.has(t)) throw new ValueError(`Expected distinct characters in vocabulary, got ${showChar(t)} twice`);
      index.set(t, i);
    });
    if (unknown === 'unk' && !index.has(UNK)) throw new ValueError(`Expected the token ${UNK} in a vocabulary with unknown 'unk', got none`);
    this.tokens = [...tokens];
    this.unknown = unknown;
    this.index = index;
  }

  /** The sorted distinct characters of text (plus `<unk>` first under the 'unk' policy). */
  static fromText(text: string, unknown: UnknownPolicy): Vocabulary {
    if (typeof text !== 'string' || text.length === 0) throw new ValueError(`Expected text to be a non-empty string, got ${typeof text === 'string' ? 'an empty string' : typeof text}`);
    const chars = [...new Set(text)].sort();
    return new Vocabulary(unknown === 'unk' ? [UNK, ...chars] : chars, unknown);
  }

  /** Number of tokens V. */
  get size(): number {
    return this.tokens.length;
  }

  /** Id of the `<unk>` token, or −1 under the 'error' policy. */
  get unkId(): number {
    return this.index.get(UNK) ?? -1;
  }

  /** Token ids of text; an unknown character becomes `<unk>` or a ValueError naming it and its position. */
  encode(text: string, argName = 'text'): Int32Array {
    if (typeof text !== 'string') throw new ValueError(`Expected ${argName} to be a string, got ${typeof text}`);
    // at most one id per UTF-16 unit; characters are code points (for…of)
    const ids = new Int32Array(text.length);
    const unk = this.unkId;
    let i = 0;
    for (const ch of text) {
      const id = this.index.get(ch);
      if (id === undefined) {
        if (unk < 0) throw new ValueError(`Expected characters of the vocabulary in ${argName}, got ${showChar(ch)} at position ${i}`);
        ids[i++] = unk;
      } else ids[i++] = id;
    }
    return i === ids.length ? ids : ids.slice(0, i);
  }

  /** The text of token ids (`<unk>` is written as the string "<unk>"). */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.tokens[ids[i]];
    return s;
  }
}
