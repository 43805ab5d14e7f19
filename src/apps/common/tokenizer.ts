// Tokenizers shared by the applications: a character or a word vocabulary with a padding token
// (id 0) and an unknown token (id 1). A tokenizer is plain JSON (toJSON / Tokenizer.fromJSON) and
// travels in the model file's header beside the graph.
import { ValueError, show } from '../../errors';

/** Characters or words as tokens. */
export type TokenizerKind = 'char' | 'word';

export const PAD = '<pad>';
export const UNKNOWN = '<unk>';
export const PAD_ID = 0;
export const UNK_ID = 1;

/** A tokenizer as plain JSON (what model files store). */
export interface TokenizerJSON {
  /** Characters or words. */
  kind: TokenizerKind;
  /** Whether text is lower-cased first. */
  lowercase: boolean;
  /** Tokens by id, starting with `<pad>` and `<unk>`. */
  tokens: string[];
}

/** Options of `Tokenizer.fit`. */
export interface TokenizerOptions {
  /** Characters or words (default `'char'`). */
  kind?: TokenizerKind;
  /** Lower-case text before splitting (default: true for words, false for characters). */
  lowercase?: boolean;
  /** Keep tokens seen at least this often (default 1). */
  minCount?: number;
  /** Keep at most this many tokens besides <pad> and <unk>, the most frequent first (default: all). */
  maxTokens?: number;
}

// A word is a run of letters/digits/apostrophes; every other non-space character is a token of its own.
const WORD = /[\p{L}\p{N}'’_]+|[^\s\p{L}\p{N}'’_]/gu;

/**
 * Text to token ids for the classifier and the labeler: characters or words, `<pad>` = 0 and `<unk>` = 1, the
 * most frequent tokens first; stored in the application's model file.
 */
export class Tokenizer {
  /** Characters or words. */
  readonly kind: TokenizerKind;
  /** Whether text is lower-cased first. */
  readonly lowercase: boolean;
  /** Token strings by id: `<pad>` (0), `<unk>` (1), then the vocabulary. */
  readonly tokens: readonly string[];
  private readonly index: Map<string, number>;

  constructor(o: TokenizerJSON) {
    if (!o || typeof o !== 'object') throw new ValueError(`Expected a tokenizer { kind, lowercase, tokens }, got ${show(o)}`);
    if (o.kind !== 'char' && o.kind !== 'word') throw new ValueError(`Expected tokenizer kind 'char' or 'word', got ${show(o.kind)}`);
    if (typeof o.lowercase !== 'boolean') throw new ValueError(`Expected tokenizer lowercase to be a boolean, got ${show(o.lowercase)}`);
    if (!Array.isArray(o.tokens) || o.tokens[0] !== PAD || o.tokens[1] !== UNKNOWN) throw new ValueError(`Expected tokenizer tokens to start with ${PAD}, ${UNKNOWN}, got ${Array.isArray(o.tokens) ? JSON.stringify(o.tokens.slice(0, 2)) : String(o.tokens)}`);
    const index = new Map<string, number>();
    o.tokens.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0) throw new ValueError(`Expected tokens[${i}] to be a non-empty string, got ${JSON.stringify(t)}`);
      if (index.has(t)) throw new ValueError(`Expected distinct tokens, got ${JSON.stringify(t)} twice`);
      index.set(t, i);
    });
    this.kind = o.kind;
    this.lowercase = o.lowercase;
    this.tokens = [...o.tokens];
    this.index = index;
  }

  /** Builds the vocabulary of texts. */
  static fit(texts: readonly string[], o: TokenizerOptions = {}): Tokenizer {
    if (!Array.isArray(texts) || texts.length === 0) throw new ValueError(`Expected texts to be a non-empty array of strings, got ${Array.isArray(texts) ? 'an empty array' : String(texts)}`);
    const kind = o.kind ?? 'char';
    if (kind !== 'char' && kind !== 'word') throw new ValueError(`Expected kind 'char' or 'word', got ${show(kind)}`);
    const minCount = o.minCount ?? 1;
    if (!Number.isInteger(minCount) || minCount < 1) throw new ValueError(`Expected minCount to be an integer >= 1, got ${show(minCount)}`);
    const maxTokens = o.maxTokens ?? Infinity;
    if (maxTokens !== Infinity && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw new ValueError(`Expected maxTokens to be an integer >= 1, got ${show(maxTokens)}`);
    const lowercase = o.lowercase ?? kind === 'word';
    const probe = new Tokenizer({ kind, lowercase, tokens: [PAD, UNKNOWN] });
    const counts = new Map<string, number>();
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new ValueError(`Expected texts[${i}] to be a string, got ${typeof t}`);
      for (const tok of probe.split(t)) counts.set(tok, (counts.get(tok) ?? 0) + 1);
    });
    counts.delete(PAD);
    counts.delete(UNKNOWN);
    // most frequent first, ties in code-unit order: deterministic
    const kept = [...counts].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxTokens).map(([t]) => t);
    return new Tokenizer({ kind, lowercase, tokens: [PAD, UNKNOWN, ...kept] });
  }

  /** A tokenizer from its JSON form. */
  static fromJSON(o: TokenizerJSON): Tokenizer {
    return new Tokenizer(o);
  }

  /** The JSON form (what model files store). */
  toJSON(): TokenizerJSON {
    return { kind: this.kind, lowercase: this.lowercase, tokens: [...this.tokens] };
  }

  /** Number of tokens, `<pad>` and `<unk>` included. */
  get size(): number {
    return this.tokens.length;
  }

  /** The tokens of text: code points, or words and punctuation. */
  split(text: string, argName = 'text'): string[] {
    if (typeof text !== 'string') throw new ValueError(`Expected ${argName} to be a string, got ${typeof text}`);
    const t = this.lowercase ? text.toLowerCase() : text;
    return this.kind === 'char' ? [...t] : (t.match(WORD) ?? []);
  }

  /** Token ids of text; tokens outside the vocabulary become <unk> (id 1). */
  encode(text: string, argName = 'text'): Int32Array {
    const toks = this.split(text, argName);
    const ids = new Int32Array(toks.length);
    for (let i = 0; i < toks.length; i++) ids[i] = this.index.get(toks[i]) ?? UNK_ID;
    return ids;
  }

  /** The token strings of some ids (`<unk>` for an unknown id). */
  decode(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.tokens[id] ?? UNKNOWN);
  }
}
