export function rewriteModelFile(bytes: Uint8Array, edit: ((header: any) => unknown) | string): Uint8Array;
export function rewriteSafetensors(bytes: Uint8Array, edit: (header: any) => unknown): Uint8Array;
