// A/B of two commits on this library's workloads (issue 22: the new tree within 3 % of the old).
//   node bench/ab.mjs <commitA> <commitB> [--rounds N] [--only W1a,W2,...] [--quick] [--keep]
// Each commit is checked out into a temporary git worktree beside the others (this repository's
// node_modules linked in, as every worktree here has it) and built with
// `node scripts/build.mjs --no-dts`. Then every round runs one fresh Node process per commit, in
// alternating order (A then B, then B then A, …); a process loads its own tree's dist/ through that
// tree's bench/ours.mjs (the seeded models every bench run uses), runs each workload once, then times
// it with bench/common.mjs measure() (benchmark.js; --quick: short samples). Per workload it prints
// both sides' median figure over rounds and the median of the per-round speed ratios B ÷ A (> 1: B
// faster; us/step inverted) with their min–max, so a difference is judged on interleaved medians,
// never on one measurement. Workloads: W1a W1b W2 W3a W3a-cho W3b W4 W5 (bench/common.mjs).
import v8 from 'node:v8';
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DEFAULT_IDS = ['W1a', 'W1b', 'W2', 'W3a', 'W3a-cho', 'W3b', 'W4', 'W5'];

function parseArgs(argv) {
  const a = { commits: [], rounds: 5, only: DEFAULT_IDS, quick: false, keep: false, child: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--rounds') {
      a.rounds = Number(argv[++i]);
      if (!Number.isInteger(a.rounds) || a.rounds < 1) throw new Error(`Expected --rounds N with N a positive integer, got ${argv[i]}`);
    } else if (k === '--only') a.only = argv[++i].split(',');
    else if (k === '--quick') a.quick = true;
    else if (k === '--keep') a.keep = true;
    else if (k === '--child') a.child = argv[++i];
    else if (k.startsWith('--')) throw new Error(`Expected --rounds N, --only IDS, --quick or --keep, got ${k}`);
    else a.commits.push(k);
  }
  for (const id of a.only) if (!DEFAULT_IDS.includes(id)) throw new Error(`Expected workload ids among ${DEFAULT_IDS.join(' ')}, got ${id}`);
  if (!a.child && a.commits.length !== 2) throw new Error(`Expected two commits (A and B), got ${a.commits.length}`);
  return a;
}

// ---- child: one tree, every workload once, figures as one JSON line ---------------------------
async function child(dir, ids, quick) {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const ours = await import(pathToFileURL(join(dir, 'bench', 'ours.mjs')).href);
  const common = await import(pathToFileURL(join(dir, 'bench', 'common.mjs')).href);
  const impl = await ours.make('rnn-wasm');
  const out = {};
  for (const id of ids) {
    const w = common.WORKLOADS[id];
    const job = await impl[w.mode](id);
    await job.output(); // built and run once before timing
    const r = await common.measure(job.fn, { quick, async: job.async });
    out[id] = common.figure(id, r.seconds);
    await job.dispose();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// ---- parent -------------------------------------------------------------------------------------
function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Expected \`${cmd} ${args.join(' ')}\` to succeed in ${cwd}, got exit ${r.status}: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout.trim();
}

/** A worktree of `commit` with node_modules linked in and dist/ built; its directory. */
function tree(base, commit) {
  const sha = run('git', ['rev-parse', '--verify', `${commit}^{commit}`], root);
  const dir = join(base, sha.slice(0, 12));
  if (!existsSync(dir)) {
    run('git', ['worktree', 'add', '--detach', dir, sha], root);
    symlinkSync(realpathSync(join(root, 'node_modules')), join(dir, 'node_modules'));
    console.log(`building ${commit} (${sha.slice(0, 12)}) …`);
    run(process.execPath, ['scripts/build.mjs', '--no-dts'], dir);
  }
  return { sha, dir };
}

function figures(dir, ids, quick) {
  return new Promise((resolve, reject) => {
    const args = [fileURLToPath(import.meta.url), '--child', dir, '--only', ids.join(','), ...(quick ? ['--quick'] : [])];
    const p = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(text.trim().split('\n').pop())) : reject(new Error(`Expected the bench process in ${dir} to finish, got exit ${code}`))));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function parent(a) {
  const common = await import('./common.mjs');
  const base = mkdtempSync(join(tmpdir(), 'rnn-wasm-ab-'));
  const trees = [];
  try {
    for (const c of a.commits) trees.push(tree(base, c));
    const got = [[], []]; // per side: one { id: figure } per round
    for (let r = 0; r < a.rounds; r++) {
      const order = r % 2 ? [1, 0] : [0, 1];
      for (const side of order) got[side].push(await figures(trees[side].dir, a.only, a.quick));
      console.log(`round ${r + 1}/${a.rounds} done`);
    }
    console.log(`\nA = ${a.commits[0]} (${trees[0].sha.slice(0, 12)}), B = ${a.commits[1]} (${trees[1].sha.slice(0, 12)}); ${a.rounds} round(s), order alternated${a.quick ? ', --quick' : ''}`);
    console.log('workload   unit          A (median)    B (median)    speed B÷A median [min – max]');
    for (const id of a.only) {
      const w = common.WORKLOADS[id];
      // speed ratio: > 1 when B is faster, whatever the unit's direction
      const ratios = got[0].map((ra, r) => (w.higherIsBetter ? got[1][r][id] / ra[id] : ra[id] / got[1][r][id]));
      const fa = median(got[0].map((x) => x[id]));
      const fb = median(got[1].map((x) => x[id]));
      console.log(`${id.padEnd(10)} ${w.unit.padEnd(13)} ${fa.toPrecision(5).padStart(12)}  ${fb.toPrecision(5).padStart(12)}    ${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)} – ${Math.max(...ratios).toFixed(3)}]`);
    }
  } finally {
    if (!a.keep) {
      for (const t of trees) spawnSync('git', ['worktree', 'remove', '--force', t.dir], { cwd: root });
      rmSync(base, { recursive: true, force: true });
    } else console.log(`trees kept in ${base}`);
  }
}

const args = parseArgs(process.argv.slice(2));
if (args.child) await child(args.child, args.only, args.quick);
else await parent(args);
