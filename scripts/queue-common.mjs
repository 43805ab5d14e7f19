// What the queue scripts share: the Redis address flag, the key names and the line splitter of the
// batch tools (split on \n only, a \r\n ending loses its \r, a leading UTF-8 BOM is skipped).
//   rnnwasm:<queue>:answer:<run>-<line>  the answer of one input line (set once: SET NX)
//   rnnwasm:<queue>:run:<run>            the number of lines of a submitted run
// A job's id is <run>-<line> (BullMQ ids may not hold a colon), so a job added or processed twice still has one answer.

export const answerKey = (queue, jobId) => `rnnwasm:${queue}:answer:${jobId}`;
export const runKey = (queue, run) => `rnnwasm:${queue}:run:${run}`;
export const jobId = (run, line) => `${run}-${line}`;

/** "HOST:PORT" → an ioredis/BullMQ connection. */
export function connection(redis) {
  const [host, port] = redis.split(':');
  if (!host || !/^\d+$/.test(port ?? '')) usage(`Expected --redis HOST:PORT, got ${redis}`);
  return { host, port: +port, maxRetriesPerRequest: null };
}

export function usage(message) {
  console.error(message);
  process.exit(2);
}

/** The lines of a file's bytes, numbered from 1, as the batch tools split them. */
export function* splitLines(bytes) {
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let n = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    const next = end < 0 ? bytes.length : end + 1;
    if (end < 0) end = bytes.length;
    if (end > start && bytes[end - 1] === 13) end--;
    yield { line: ++n, bytes: bytes.subarray(start, end) };
    start = next;
  }
}
