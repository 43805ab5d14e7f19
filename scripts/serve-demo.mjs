// A tiny static file server for dist-demo/ on 127.0.0.1 (no server-side code: the page works
// from any static host; no cross-origin-isolation headers are sent, on purpose).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.png': 'image/png', '.rnnw': 'application/octet-stream' };

// esbuild's chunks are named by a hash of their content (chunk-XXXXXXXX.js, binary-relaxed-XXXXXXXX.js),
// so they may be cached for good, as static hosts do: the page and its worker then fetch the
// library chunk they share, and the binary both load, once. Every other file is sent afresh.
const HASHED = /-[A-Z0-9]{8}\.js$/;

/**
 * Serves dir on 127.0.0.1:port (0 = any free port); resolves with { url, close, served }, where
 * `served` lists the path of every file sent, in order (the tests check what a page loads).
 */
export function serveStatic(dir, port = 0) {
  const base = resolve(dir);
  const served = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      served.push(path);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': HASHED.test(path) ? 'max-age=31536000, immutable' : 'no-store' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      ok({ url: `http://127.0.0.1:${p}/`, served, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { url } = await serveStatic(join(root, 'dist-demo'), Number(process.env.PORT ?? 8080));
  console.log(`playground at ${url} (Ctrl-C stops)`);
}
