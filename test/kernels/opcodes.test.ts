// The TypeScript opcode table (src/model/program.ts) against the OP_* globals the wasm exports
// (assembly/program.ts): same names, same codes, no gaps on either side.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/wasm/load';
import { OP } from '../../src/model/program';

describe('opcodes', () => {
  it('every OP entry equals the wasm OP_* global and every OP_* global has an entry', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const exported = Object.keys(rt.k).filter((n) => n.startsWith('OP_')).sort();
    expect(exported).toEqual(Object.keys(OP).map((n) => `OP_${n}`).sort());
    for (const [name, code] of Object.entries(OP)) expect([name, (rt.k as unknown as Record<string, WebAssembly.Global>)[`OP_${name}`].value]).toEqual([name, code]);
    expect(new Set(Object.values(OP)).size).toBe(Object.keys(OP).length);
  });
});
