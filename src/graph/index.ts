// The graph builders, exported as the `graph` namespace: graph.input, graph.lstm, graph.attention…
export {
  input, embedding, linear, softmax, logSoftmax, tanh, dropout, concat, repeat, pool, rnn, lstm, gru, mingru, minlstm, attention, rwkv7,
  Sym, type InputOptions, type PoolMode, type AttentionScore, type RecurrentNodeOptions, type RecurrentSyms,
} from './nodes';
