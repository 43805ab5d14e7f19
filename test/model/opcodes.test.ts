// The op-list interpreter's opcodes: the TS mirror (src/model/program.ts OP) equals the OP_* globals
// the wasm exports (assembly/program.ts), entry for entry, in both binaries.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/wasm/load';
import { OP } from '../../src/model/program';

describe('opcode table', () => {
  it.each(['simd', 'relaxed'] as const)('%s: every OP entry equals the wasm OP_* global, and every OP_* global has an entry', async (variant) => {
    const rt = await createRuntime({ variant });
    const exported = Object.keys(rt.k).filter((k) => k.startsWith('OP_'));
    const fromWasm = Object.fromEntries(exported.map((k) => [k.slice(3), (rt.k as unknown as Record<string, WebAssembly.Global>)[k].value]));
    expect(fromWasm).toEqual({ ...OP });
    // opcodes are distinct
    expect(new Set(Object.values(OP)).size).toBe(Object.keys(OP).length);
  });
});
