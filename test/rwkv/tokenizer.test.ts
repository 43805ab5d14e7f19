// The World tokenizer against the official RWKV_TOKENIZER (rwkv_v7_demo_rnn.py, run by
// scripts/fixtures/rwkv7.py on a subset of rwkv_vocab_v20230424.txt): same ids, exact round trip.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorldTokenizer } from '../../src/rwkv/tokenizer';
import { FormatError } from '../../src/io/format';
import { ValueError } from '../../src/errors';
import { FIXTURES } from './fixtures';

const text = readFileSync(join(FIXTURES, 'vocab-subset.txt'), 'utf-8');
const cases = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer.json'), 'utf-8')).cases as { text: string; ids: number[] }[];
const tok = WorldTokenizer.fromText(text);

describe('WorldTokenizer', () => {
  it.each(cases.map((c, i) => [i, c] as const))('case %i: ids equal the official tokenizer, decode round-trips', (_, c) => {
    expect(tok.encode(c.text)).toEqual(c.ids);
    expect(tok.decode(c.ids)).toBe(c.text);
  });
  it('greedy longest match: the longest token starting here wins, then the match restarts', () => {
    const lines = Array.from({ length: 256 }, (_, b) => `${b + 1} b'\\x${b.toString(16).padStart(2, '0')}' 1`);
    lines.push("300 'ab' 2", "301 'abc' 3", "302 'abcde' 5");
    const t = WorldTokenizer.fromText(lines.join('\n'));
    // 'abcd': 'abcde' does not match, 'abc' does; 'd' alone is byte token 0x64 + 1
    expect(t.encode('abcdab')).toEqual([301, 0x64 + 1, 300]);
    expect(t.encode('abcde')).toEqual([302]);
    expect(t.size).toBe(303);
    expect(tok.size).toBeGreaterThan(60000);
  });
  it('parses str and bytes literals with escapes', () => {
    const lines = Array.from({ length: 256 }, (_, b) => `${b + 1} b'\\x${b.toString(16).padStart(2, '0')}' 1`);
    lines.push(`300 'caf\\xe9' 5`, `301 "it's" 4`, `302 '\\u4e2d' 3`, `303 '\\U0001f600' 4`, `304 '\\t\\\\' 2`);
    const t = WorldTokenizer.fromText(lines.join('\n'));
    expect(t.encode('café')).toEqual([300]);
    expect(t.encode("it's中😀\t\\")).toEqual([301, 302, 303, 304]);
  });
  it('malformed files are FormatErrors naming the line', () => {
    const bytes = Array.from({ length: 256 }, (_, b) => `${b + 1} b'\\x${b.toString(16).padStart(2, '0')}' 1`);
    expect(() => WorldTokenizer.fromText([...bytes, "300 'ab' 3"].join('\n'))).toThrow('Expected 3 bytes for token 300 on vocabulary line 257, got 2');
    expect(() => WorldTokenizer.fromText([...bytes, '300 ab 2'].join('\n'))).toThrow(/quoted Python string.*line 257/);
    expect(() => WorldTokenizer.fromText([...bytes, "1 'zz' 2"].join('\n'))).toThrow('Expected unique token ids, got 1 again on vocabulary line 257');
    expect(() => WorldTokenizer.fromText([...bytes, "300 '\\q' 1"].join('\n'))).toThrow(FormatError);
    expect(() => WorldTokenizer.fromText(bytes.slice(1).join('\n'))).toThrow('got none for byte 0');
    expect(() => WorldTokenizer.fromText(3 as never)).toThrow(ValueError);
    expect(() => tok.decode([70000])).toThrow(ValueError);
  });
});
