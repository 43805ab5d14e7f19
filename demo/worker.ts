// The playground's worker: the library's documented worker side (serveCharLM) for the LSTM, GRU, RNN,
// minGRU and minLSTM models, and the RWKV-7 side (rwkv-server.ts, the same request protocol) for
// RWKV-7: a create with cell 'rwkv7' or a load of a safetensors file goes to it, and every later
// request goes where the model is. Progress every 250 ms is enough for a live chart and keeps the
// page's main thread mostly idle.
import { serveCharLM, type MessageScope } from '../dist/index.js';
import { Rwkv7Server, isRwkv7Bytes } from './rwkv-server';

const PROGRESS_MS = 250;
const scope = globalThis as unknown as MessageScope;
const post = (m: unknown, transfer?: Transferable[]) => scope.postMessage(m, transfer);
// serveCharLM listens on a scope of its own, fed with the requests that are not RWKV-7's
const charlm: ((e: MessageEvent) => void)[] = [];
serveCharLM({ addEventListener: (_type, fn) => void charlm.push(fn), postMessage: post }, { progressMs: PROGRESS_MS });
const rwkv7 = new Rwkv7Server(post, PROGRESS_MS);

scope.addEventListener('message', (e) => {
  const req = e.data as { id: number; op: string; args: unknown[] };
  const starts = req.op === 'create' || req.op === 'load';
  const toRwkv7 = starts ? (req.op === 'create' ? (req.args?.[1] as { cell?: string } | undefined)?.cell === 'rwkv7' : req.args?.[0] instanceof Uint8Array && isRwkv7Bytes(req.args[0])) : rwkv7.active;
  if (starts) {
    // one model at a time: the other side drops its own (its reply, to id 0, is no page call)
    if (toRwkv7) for (const fn of charlm) fn(new MessageEvent('message', { data: { id: 0, op: 'dispose', args: [] } }));
    else rwkv7.dispose();
  }
  if (toRwkv7) void rwkv7.handle(req);
  else for (const fn of charlm) fn(e);
});
