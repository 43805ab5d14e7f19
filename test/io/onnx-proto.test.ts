// The hand-written ONNX protobuf codec against an independent implementation (onnx-proto, i.e.
// protobufjs generated from onnx.proto; a devDependency only): what one writes the other reads,
// field by field, including negative int64s, packed and unpacked repeated numbers, unknown fields
// and truncated input.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import type { onnx as proto } from 'onnx-proto';
import { decodeModel, encodeModel, DataType, AttributeType, type ModelProto } from '../../src/io/onnx-proto';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as { onnx: typeof proto };

const sample = (): ModelProto => ({
  irVersion: 8,
  producerName: 'test ü',
  opsetImport: [{ domain: '', version: 17 }],
  graph: {
    name: 'g',
    node: [
      { opType: 'LSTM', name: 'n0', input: ['x', 'W', '', 'B'], output: ['Y'], attribute: [
        { name: 'hidden_size', type: AttributeType.INT, i: 8 },
        { name: 'axis', type: AttributeType.INT, i: -1 },
        { name: 'clip', type: AttributeType.FLOAT, f: 0.5 },
        { name: 'direction', type: AttributeType.STRING, s: new TextEncoder().encode('forward') },
        { name: 'perm', type: AttributeType.INTS, ints: [1, 0, -2, 2 ** 40] },
        { name: 'fs', type: AttributeType.FLOATS, floats: [1.5, -0.25] },
        { name: 'value', type: AttributeType.TENSOR, t: { dims: [2], dataType: DataType.INT64, int64Data: [-3, 7] } },
      ] },
    ],
    initializer: [
      { name: 'W', dims: [1, 4], dataType: DataType.FLOAT, rawData: new Uint8Array([0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64]) },
      { name: 'F', dims: [2], dataType: DataType.FLOAT, floatData: [0.125, -8] },
      { name: 'D', dims: [1], dataType: DataType.DOUBLE, doubleData: [Math.PI] },
    ],
    input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'T' }, { dimValue: 3 }] } } } }],
    output: [{ name: 'Y', type: { tensorType: { elemType: DataType.FLOAT } } }],
  },
});

const num = (v: unknown) => (typeof v === 'number' ? v : Number((v as { toString(): string }).toString()));

describe('ONNX protobuf codec', () => {
  it('what we encode, protobufjs decodes to the same fields', () => {
    // protobufjs' decoded types mark every field nullable; the assertions below check presence
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const m = onnx.ModelProto.decode(encodeModel(sample())) as any;
    expect(num(m.irVersion)).toBe(8);
    expect(m.producerName).toBe('test ü');
    expect(num(m.opsetImport[0].version)).toBe(17);
    const n = m.graph!.node[0];
    expect([n.opType, n.name, n.input, n.output]).toEqual(['LSTM', 'n0', ['x', 'W', '', 'B'], ['Y']]);
    const a = Object.fromEntries(n.attribute.map((x: { name: string }) => [x.name, x]));
    expect(num(a.hidden_size.i)).toBe(8);
    expect(num(a.axis.i)).toBe(-1);
    expect(a.clip.f).toBe(0.5);
    expect(new TextDecoder().decode(a.direction.s)).toBe('forward');
    expect(a.perm.ints.map(num)).toEqual([1, 0, -2, 2 ** 40]);
    expect(a.fs.floats).toEqual([1.5, -0.25]);
    expect(a.value.t!.int64Data.map(num)).toEqual([-3, 7]);
    const [w, f, d] = m.graph!.initializer;
    expect(Array.from(new Float32Array(new Uint8Array(w.rawData).buffer))).toEqual([1, 2, 3, 4]);
    expect(f.floatData).toEqual([0.125, -8]);
    expect(d.doubleData).toEqual([Math.PI]);
    const dims = m.graph!.input[0].type!.tensorType!.shape!.dim;
    expect([dims[0].dimParam, num(dims[1].dimValue)]).toEqual(['T', 3]);
  });

  it('what protobufjs encodes (unpacked repeated numbers, proto2 style), we decode to the same fields', () => {
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(sample() as proto.IModelProto)).finish();
    const m = decodeModel(bytes);
    const s = sample();
    expect(m.irVersion).toBe(8);
    expect(m.graph!.node![0].attribute!.map((a) => [a.name, a.i, a.f, a.ints, a.floats])).toEqual(
      s.graph!.node![0].attribute!.map((a) => [a.name, a.i, a.f, a.ints, a.floats]),
    );
    expect(m.graph!.node![0].attribute![6].t!.int64Data).toEqual([-3, 7]);
    expect(m.graph!.initializer![0].rawData).toEqual(s.graph!.initializer![0].rawData);
    expect(m.graph!.initializer![1].floatData).toEqual([0.125, -8]);
    expect(m.graph!.input).toEqual(s.graph!.input);
    // and our own encoding round-trips exactly
    expect(decodeModel(encodeModel(s))).toEqual(s);
  });

  it('skips unknown fields of every wire type, and refuses truncated or malformed bytes with a position', () => {
    const known = encodeModel({ irVersion: 9 });
    // field 99 varint, field 98 fixed64, field 97 length-delimited, field 96 fixed32
    const unknown = new Uint8Array([0x98, 0x06, 0x05, 0x91, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x8a, 0x06, 2, 9, 9, 0x85, 0x06, 1, 2, 3, 4]);
    const m = decodeModel(new Uint8Array([...unknown, ...known]));
    expect(m).toEqual({ irVersion: 9 });
    const full = encodeModel(sample());
    expect(() => decodeModel(full.subarray(0, full.length - 3))).toThrow(/truncated field at byte \d+/);
    expect(() => decodeModel(new Uint8Array([0x9b, 0x06]))).toThrow(/unsupported wire type 3/); // a group (field 99)
    expect(() => decodeModel(new Uint8Array([0x0d, 0, 0, 0, 0]))).toThrow('field irVersion: expected wire type 0, got 5');
    expect(() => decodeModel(new Uint8Array([0x3a, 0x02, 0xa0, 0x06]))).toThrow(/truncated field at byte 2/); // graph whose unknown varint is cut
  });
});
