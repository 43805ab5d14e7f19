// The Seq2Seq as a WorkerPool application (src/parallel/apps.ts): `translate` cuts the texts
// into the same length-sorted chunks Seq2Seq.translate decodes together, and each worker decodes
// its chunks with translate() (or, for an ensemble, Seq2Seq.translateEnsemble()), so every
// translation equals the in-process one bit for bit. Registered by src/index.ts and the worker entries.
import type { PoolApp } from '../../parallel/apps';
import type { GraphModel } from '../../graph/model';
import { Seq2Seq, checkEnsemble, seq2seqFromLoaded, type TranslateOptions } from './seq2seq';
import { TokenVocab } from './vocab';
import { chunksByLength } from './batch';
import { posInt, type Seq2SeqConfig } from './config';
import { ValueError } from '../../errors';

/** What a worker rebuilds a Seq2Seq from beside its graph: the config and both vocabularies (JSON). */
interface Seq2SeqMeta {
  config: Seq2SeqConfig;
  source: string[];
  target: string[];
}

export const SEQ2SEQ_POOL_APP: PoolApp<Seq2Seq> = {
  kind: 'seq2seq',
  verbs: ['translate'],
  owns: (x): x is Seq2Seq => x instanceof Seq2Seq,
  fromFile: (l) => (l.metadata?.seq2seq !== undefined ? seq2seqFromLoaded(l) : null),
  meta(s) {
    const meta: Seq2SeqMeta = { config: s.config, source: [...s.source.tokens], target: [...s.target.tokens] };
    return JSON.stringify(meta);
  },
  checkMembers: (members) => checkEnsemble(members),
  plan(s, verb, texts, options) {
    if (verb !== 'translate') throw new ValueError(`Expected the verb translate for a Seq2Seq pool, got ${verb}`);
    if (!Array.isArray(texts)) throw new ValueError(`Expected texts to be an array of strings, got ${typeof texts}`);
    const o = (options ?? {}) as TranslateOptions;
    // the whole call is checked here, as translate() checks it, before anything is sent
    s.searchSettings(o);
    const srcs = texts.map((t, i) => s.encodeSource(t as string, `texts[${i}]`));
    return chunksByLength(srcs.map((x) => x.length), posInt('batchSize', o.batchSize ?? 64, 1 << 16));
  },
  rebuild(meta: string, model: GraphModel) {
    const m = JSON.parse(meta) as Seq2SeqMeta;
    const { sourceTokens, targetTokens, ...rest } = m.config;
    return new Seq2Seq({ ...rest, source: new TokenVocab(sourceTokens, m.source), target: new TokenVocab(targetTokens, m.target) }, model);
  },
  run(members, _verb, texts, options) {
    const o = { ...(options as TranslateOptions) };
    return members.length > 1 ? Seq2Seq.translateEnsemble(members, texts as string[], o) : members[0].translate(texts as string[], o);
  },
};
