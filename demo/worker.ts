// The playground's worker: the library's documented worker side, nothing else. Progress every
// 250 ms is enough for a live chart and keeps the page's main thread mostly idle.
import { serveCharLM } from '../dist/index.js';

serveCharLM(undefined, { progressMs: 250 });
