export class SilentWrong extends Error {}
export const APP_KINDS: string[];
export const APP_PROBES: Record<string, (app: any) => unknown>;
export const APP_READERS: Record<string, unknown>;
