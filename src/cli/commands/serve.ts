// rnn-wasm serve: an application model over HTTP (createServer in ../../serve/server.ts): the
// endpoint of its kind, /healthz, /readyz and /metrics, dynamic batching over worker threads.
// SIGTERM or SIGINT: stop accepting, answer every accepted request, exit 0.
import { library, parse, UsageError, type CliCommand } from '../frame';

export const serve: CliCommand = {
  name: 'serve',
  summary: 'serve a classifier, labeler, seq2seq, generator or char LM model over HTTP (JSON)',
  define(cmd) {
    cmd
      .argument('[model]', 'model file (like every command that reads one)')
      .option('--ensemble <file>', 'another seq2seq model decoded with the first (an ensemble); repeat for more', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .option('--model <file>', 'the model file as an option (the older spelling); repeat it for a seq2seq ensemble', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .option('--port <p>', 'TCP port (0: any free port)', parse.int(0), 8080)
      .option('--host <h>', 'address to listen on', '127.0.0.1')
      .option('--workers <n>', 'worker threads holding the model', parse.int(1), 1)
      .option('--batch-window-ms <ms>', 'dynamic batching: wait this long for more requests (0: off)', parse.int(0), 2)
      .option('--max-batch <n>', 'dynamic batching: texts per model call (1: off)', parse.int(1), 32)
      .option('--max-body-bytes <n>', 'request body limit (413)', parse.int(1), 1 << 20)
      .option('--max-texts <n>', 'texts per request (413)', parse.int(1), 64)
      .option('--max-chars <n>', 'characters per text (413)', parse.int(1), 10000)
      .option('--timeout-ms <ms>', 'per-request timeout (504)', parse.int(1), 30000)
      .option('--beam <k>', 'translate: beam width', parse.int(1), 1)
      .option('--nbest <n>', 'translate: hypotheses per text', parse.int(1), 1)
      .option('--alpha <a>', 'translate: length normalisation exponent', parse.number(0), 0)
      .addHelpText('after', '\nExample:\n  rnn-wasm serve names.rnnw --port 8080 --workers 2\n  curl -s localhost:8080/v1/classify -H content-type:application/json -d \'{"texts":["Anna"]}\'');
  },
  async run(ctx, args, o) {
    const given = (o.model as string[] | undefined) ?? [];
    if (args[0] !== undefined && given.length) throw new UsageError(`Expected the model file once (as the argument or --model), got ${args[0]} and --model ${given.join(' ')}`);
    const first = args[0] !== undefined ? [args[0] as string] : given;
    if (!first.length) throw new UsageError('Expected a model file as the first argument (serve MODEL), got none');
    const lib = await library();
    const server = await lib.createServer({
      model: [...first, ...((o.ensemble as string[] | undefined) ?? [])], workers: o.workers as number, batchWindowMs: o.batchWindowMs as number, maxBatch: o.maxBatch as number,
      maxBodyBytes: o.maxBodyBytes as number, maxTexts: o.maxTexts as number, maxChars: o.maxChars as number, timeoutMs: o.timeoutMs as number,
      translate: { beam: o.beam as number, nbest: o.nbest as number, alpha: o.alpha as number },
    });
    const url = await server.listen({ port: o.port as number, host: o.host as string });
    ctx.err(`serving a ${server.kind} model on ${url} (${o.workers as number} workers)`);
    await new Promise<void>((ok) => {
      const stop = () => {
        ctx.err('closing: answering accepted requests');
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        server.close().then(ok, ok);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    ctx.err('closed');
    return 0;
  },
};
