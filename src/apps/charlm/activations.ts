// The hidden states of a CharLM's last recurrent layer over a text: one forward call of a probe
// model (the CharLM's embedding and recurrent stack, parameters copied, without the output layer),
// so nothing disturbs the model's own buffers or a CharStream that is generating.
import { cellLayer } from '../common/cells';
import { Sequential, layers } from '../../model/model';
import { Tensor } from '../../tensor';
import { ValueError } from '../../errors';
import type { CharLM } from './charlm';

/**
 * The last recurrent layer's hidden units over a text, one row per character (what the playground draws as a
 * heatmap).
 */
export interface HiddenStates {
  /** The characters read, one per row (unknown characters as `<unk>`). */
  chars: string[];
  /** Hidden units H of the last recurrent layer. */
  units: number;
  /** (T, H) row-major: values[t * units + j] = h_j after reading chars[t] (tanh range for RNN/LSTM/GRU). */
  values: Float32Array;
}

/** Last-layer hidden state after each character of text (zero initial state). */
export function hiddenStates(lm: CharLM, text: string): HiddenStates {
  if (typeof text !== 'string' || text.length === 0) throw new ValueError(`Expected text to be a non-empty string, got ${typeof text === 'string' ? 'an empty string' : typeof text}`);
  const ids = lm.vocabulary.encode(text, 'text');
  const c = lm.config;
  const rec = { inputSize: c.embeddingDim, hiddenSize: c.hiddenSize, numLayers: c.numLayers };
  const probe = new Sequential([
    layers.embedding({ numEmbeddings: lm.vocabulary.size, embeddingDim: c.embeddingDim }),
    cellLayer(c.cell, rec),
  ]);
  try {
    const sd = lm.model.stateDict();
    probe.loadStateDict(Object.fromEntries(Object.entries(sd).filter(([k]) => !k.startsWith('2.'))));
    const out = probe.forward(new Tensor(ids, [ids.length, 1]));
    return { chars: Array.from(ids, (id) => lm.vocabulary.tokens[id]), units: c.hiddenSize, values: out.output.data.slice() };
  } finally {
    probe.dispose();
  }
}
