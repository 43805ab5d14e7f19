// The token vocabularies of a Seq2Seq model: characters or whitespace-separated tokens, with the
// four special tokens <pad> = 0, <s> = 1, </s> = 2, <unk> = 3 first. They travel in the model file.
import { ValueError, show } from '../../errors';

/** How a text is cut into tokens: characters, or whitespace-separated words. */
export type TokenMode = 'chars' | 'words';
export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK_ID = 3;
/**
 * The special tokens every Seq2Seq vocabulary starts with: `<pad>` = 0, `<s>` = 1, `</s>` = 2, `<unk>` = 3.
 */
export const SPECIALS = ['<pad>', '<s>', '</s>', '<unk>'] as const;

/**
 * A Seq2Seq vocabulary: the special tokens, then the tokens of the training texts; encodes text to ids
 * (unknown tokens to `<unk>`) and back.
 */
export class TokenVocab {
  /** Tokens by id, the specials first. */
  readonly tokens: readonly string[];
  /** Characters or words. */
  readonly mode: TokenMode;
  private readonly index: Map<string, number>;

  constructor(mode: TokenMode, tokens: readonly string[]) {
    if (mode !== 'chars' && mode !== 'words') throw new ValueError(`Expected tokens mode 'chars' or 'words', got ${show(mode)}`);
    if (!Array.isArray(tokens) || tokens.length < SPECIALS.length || SPECIALS.some((s, i) => tokens[i] !== s)) {
      throw new ValueError(`Expected a vocabulary starting with ${SPECIALS.join(', ')}, got ${Array.isArray(tokens) ? tokens.slice(0, 4).join(', ') : String(tokens)}`);
    }
    const index = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0) throw new ValueError(`Expected vocabulary[${i}] to be a non-empty string, got ${JSON.stringify(t)}`);
      if (index.has(t)) throw new ValueError(`Expected distinct vocabulary tokens, got ${JSON.stringify(t)} twice`);
      index.set(t, i);
    });
    this.mode = mode;
    this.tokens = [...tokens];
    this.index = index;
  }

  /** The sorted distinct tokens of texts, after the special tokens. */
  static fromTexts(mode: TokenMode, texts: readonly string[]): TokenVocab {
    const seen = new Set<string>();
    for (const t of texts) for (const tok of split(mode, t)) seen.add(tok);
    for (const s of SPECIALS) seen.delete(s);
    return new TokenVocab(mode, [...SPECIALS, ...[...seen].sort()]);
  }

  /** Number of tokens, the specials included. */
  get size(): number {
    return this.tokens.length;
  }

  /** The tokens of a text (characters as code points, or whitespace-separated words). */
  split(text: string): string[] {
    return split(this.mode, text);
  }

  /** Token ids of text (unknown tokens become <unk>), without <s> or </s>. */
  encode(text: string, argName = 'text'): Int32Array {
    if (typeof text !== 'string') throw new ValueError(`Expected ${argName} to be a string, got ${typeof text}`);
    return Int32Array.from(split(this.mode, text), (t) => this.index.get(t) ?? UNK_ID);
  }

  /** The text of token ids (joined by nothing for chars, by one space for words). */
  decode(ids: ArrayLike<number>): string {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) out.push(this.tokens[ids[i]]);
    return out.join(this.mode === 'chars' ? '' : ' ');
  }
}

function split(mode: TokenMode, text: string): string[] {
  return mode === 'chars' ? [...text] : text.split(/\s+/).filter((w) => w.length > 0);
}
