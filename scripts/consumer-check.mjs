// The package as a user installs it. `npm pack`s this repository, installs the tarball into a fresh
// consumer project and (full check only) installs the committed HEAD from a git URL (a local bare
// clone, `git+file://…`, which makes npm run `prepare` = the build, as for any git install), then in
// each consumer runs an ESM program, a CommonJS program and a strict TypeScript program
// (`tsc --strict --noEmit`, then run) that init() and run a small LSTM (and an ONNX round trip).
// Prints the tarball's packed and unpacked size, the consumer's `npm ls --omit=dev` and its
// node_modules size.
//
//   node scripts/consumer-check.mjs            full check (a few minutes: the git install builds)
//   node scripts/consumer-check.mjs --fast     tarball only (dist already built, no prepare), npm cache first
//   node scripts/consumer-check.mjs --results  full check, and writes the "Package" section of bench/RESULTS.md
//
// test/package.test.ts runs the --fast form inside `npm test`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const require_ = createRequire(join(root, 'package.json'));
const quietNpm = ['--no-audit', '--no-fund', '--loglevel=error'];

function sh(cmd, args, cwd, extraEnv = {}) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...extraEnv }, maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** npm pack into `dest`; returns the tarball path and npm's figures. `scripts: false` skips prepare (dist must be built). */
export function pack(dest, { scripts = true } = {}) {
  const out = sh('npm', ['pack', '--json', '--pack-destination', dest, ...(scripts ? [] : ['--ignore-scripts']), '--loglevel=error'], root);
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  return { tarball: join(dest, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => ({ path: f.path, size: f.size })) };
}

// The three programs. Each prints one JSON line; all three must print the same one.
const BODY = `
const { variant } = await init();
const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 7 });
const x = tensor(Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => Math.sin(i)), [2, 2, 3]);
const { output } = lstm.forward(x);
const back = fromOnnx(toOnnx(lstm)).model.forward(x).output;
const sum = Array.from(output.data).reduce((a, b) => a + b, 0);
const same = Array.from(back.data).every((v, i) => Math.abs(v - output.data[i]) < 1e-6);
console.log(JSON.stringify({ variant, shape: output.shape, sum: Number(sum.toFixed(6)), onnxRoundTrip: same }));
`;
const PROGRAMS = {
  'esm.mjs': `import { init, LSTM, tensor, toOnnx, fromOnnx } from 'rnn-wasm';\n${BODY}`,
  'cjs.cjs': `const { init, LSTM, tensor, toOnnx, fromOnnx } = require('rnn-wasm');\n(async () => {\n${BODY}\n})().catch((e) => { console.error(e); process.exit(1); });\n`,
  'main.ts': `import { init, LSTM, tensor, toOnnx, fromOnnx, type Tensor, type RunResult } from 'rnn-wasm';\n${BODY}\nconst typed: RunResult = lstm.forward(x);\nconst t: Tensor = typed.output;\nif (t.shape.length !== 3) throw new Error('shape');\n`,
};
const TSCONFIG = {
  compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false },
  files: ['main.ts'],
};

/** A consumer project with `spec` installed; returns its directory. */
export function consumer(spec) {
  const dir = mkdtempSync(join(tmpdir(), 'rnnw-consumer-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  sh('npm', ['install', spec, ...quietNpm, '--prefer-offline'], dir);
  for (const [f, src] of Object.entries(PROGRAMS)) writeFileSync(join(dir, f), src);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  return dir;
}

/** Runs the ESM, CJS and strict-TS programs in a consumer; returns their outputs. */
export function runPrograms(dir) {
  const esm = sh(process.execPath, ['esm.mjs'], dir).trim();
  const cjs = sh(process.execPath, ['cjs.cjs'], dir).trim();
  sh(process.execPath, [tsc, '-p', '.'], dir); // --strict --noEmit, against the package's own .d.ts
  const ts = require_('typescript');
  const js = ts.transpileModule(readFileSync(join(dir, 'main.ts'), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(join(dir, 'main.mjs'), js);
  const tsOut = sh(process.execPath, ['main.mjs'], dir).trim();
  return { esm, cjs, ts: tsOut };
}

function du(path) {
  let n = 0;
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(path)) n += du(join(path, e));
  return n;
}

/** `npm ls --omit=dev --all` of a consumer and the bytes of its node_modules. */
// (optional platform packages that npm did not install for this machine are counted, not listed)
export function footprint(dir) {
  const all = sh('npm', ['ls', '--omit=dev', '--all'], dir).trim().split('\n');
  const unmet = all.filter((l) => l.includes('UNMET OPTIONAL DEPENDENCY'));
  const ls = all.filter((l) => !unmet.includes(l));
  if (unmet.length) ls.push(`(and ${unmet.length} optional platform packages for other systems, not installed)`);
  return { ls: ls.join('\n'), bytes: du(join(dir, 'node_modules')) };
}

const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;

function main() {
  const fast = process.argv.includes('--fast');
  const writeResults = process.argv.includes('--results');
  const work = mkdtempSync(join(tmpdir(), 'rnnw-pack-'));
  const lines = [];
  const log = (s = '') => {
    lines.push(s);
    console.log(s);
  };
  try {
    const p = pack(work, { scripts: !fast });
    log(`tarball ${p.tarball.split('/').pop()}: ${p.size} B packed (${kb(p.size)}), ${p.unpackedSize} B unpacked (${kb(p.unpackedSize)}), ${p.files.length} files`);
    for (const f of p.files) log(`  ${f.path.padEnd(28)} ${String(f.size).padStart(8)} B`);
    const installs = [['tarball', p.tarball]];
    if (!fast) {
      const bare = join(work, 'rnn-wasm.git');
      sh('git', ['clone', '--quiet', '--bare', root, bare], work);
      const head = sh('git', ['rev-parse', '--short', 'HEAD'], root).trim();
      installs.push([`git+file (HEAD ${head})`, `git+file://${bare}`]);
    }
    for (const [what, spec] of installs) {
      const t0 = Date.now();
      const dir = consumer(spec);
      const secs = ((Date.now() - t0) / 1000).toFixed(0);
      const out = runPrograms(dir);
      const agree = out.esm === out.cjs && out.cjs === out.ts;
      log('');
      log(`consumer installed from the ${what} in ${secs} s`);
      log(`  esm: ${out.esm}`);
      log(`  cjs: ${out.cjs}`);
      log(`  ts (tsc --strict --noEmit, then run): ${out.ts}`);
      if (!agree) throw new Error('the ESM, CJS and TypeScript programs disagree');
      const fp = footprint(dir);
      log(`  npm ls --omit=dev --all:`);
      for (const l of fp.ls.split('\n')) log(`    ${l}`);
      log(`  node_modules: ${fp.bytes} B (${kb(fp.bytes)})`);
      rmSync(dir, { recursive: true, force: true });
    }
    if (writeResults) writeSection(lines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Replaces (or appends) the "## Package" section of bench/RESULTS.md with this run's output.
function writeSection(lines) {
  const file = join(root, 'bench', 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  const section = `## Package (scripts/consumer-check.mjs)\n\n${new Date().toUTCString()}, Node ${process.version}, npm ${sh('npm', ['--version'], root).trim()}: \`node scripts/consumer-check.mjs --results\` (a consumer project installs the packed tarball and the git URL and runs an ESM, a CJS and a strict TypeScript program; for the git URL npm clones the repository, installs it with its devDependencies and runs \`prepare\`, the whole build):\n\n\`\`\`text\n${lines.join('\n').replace(/\/tmp\/[^\s#]*/g, '…')}\n\`\`\`\n`;
  const start = text.indexOf('## Package (scripts/consumer-check.mjs)');
  const next = start < 0 ? -1 : text.indexOf('\n## ', start + 1);
  const out = start < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, start)}${section}${next < 0 ? '' : text.slice(next + 1)}`;
  writeFileSync(file, out);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
