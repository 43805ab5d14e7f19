export interface ProtoField { tag: bigint; wire: number; v: bigint | Uint8Array | ProtoField[] }
export function parseProto(b: Uint8Array): ProtoField[] | false;
export function encodeProto(fields: ProtoField[]): Uint8Array;
export function unpackVarints(b: Uint8Array): bigint[] | null;
export function packVarints(values: (number | bigint)[]): Uint8Array;
