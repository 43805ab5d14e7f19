// The recurrent forward kernels split across a team of threads (threaded build only). Each step's
// hidden units are divided among the threads ([u0, u1) from shareLo/shareHi, multiples of 4): a
// thread computes the W_hh rows of its units in every gate block (one matvec per gate block and
// active batch row) and the elementwise stage of its units, then the team meets at a barrier
// before the next step reads h. Every unit is computed by the same code in the same order as in
// the single-thread kernels (assembly/cells/*.ts: per-row matvec tiles sum each output
// independently, the lane helpers are elementwise), so the results are bit-identical to one thread.
// Arguments and layouts are those of rnn_forward(_q8), lstm_forward(_q8), gru_forward(_q8).
// With one batch row over at least PACK_MIN_T steps of f32 weights, each thread first copies its
// rows of W_hh into the packed layout (assembly/kernels/packed.ts), one packed matrix per gate
// block, in its own part of the shared PK scratch, as the single-thread kernels pack the whole
// W_hh: its steps then read one contiguous stream, with the same sums (matvec_packed is
// bit-identical to the unpacked product).
import { gemmW, wRow } from '../kernels/int8';
import { matvec_packed, pack_rows, packedFloats, PACK_MIN_T } from '../kernels/packed';
import { PK, PK_FLOATS } from '../util/scratch';
import { stepActive, zeron, copyn, rnnLanes } from '../cells/rnn';
import { lstmLanes } from '../cells/lstm';
import { gruAfterLanes, gruChoRzLanes, gruChoNLanes } from '../cells/gru';
import { TID, NT, shareLo, shareHi, sync } from './sync';

// Rows [g·H + u0, g·H + u1) of W_hh (f32, or int8 with scales sw) times one state row x, into y
// (the row's gate block g at column u0), for the gate blocks g < G; wp != 0: those rows' packed
// copy (packShare), gate block g at wp + g·packedFloats(u1 − u0, H).
@inline function unitProduct(
  y: usize, x: usize, w: usize, sw: usize, b: usize, G: i32, H: i32, ldy: i32, u0: i32, u1: i32, acc: i32, wp: usize,
): void {
  const pf = <usize>packedFloats(u1 - u0, H);
  for (let g = 0; g < G; g++) {
    const row = g * H + u0;
    const bb: usize = b ? b + <usize>row : 0;
    if (wp) matvec_packed(y + <usize>(g * ldy + u0), wp + <usize>g * pf, x, bb, u1 - u0, H, acc);
    else gemmW(y + <usize>(g * ldy + u0), x, wRow(w, sw, row, H), sw ? sw + <usize>row : 0, bb, 1, u1 - u0, H, acc);
  }
}

// This thread's rows of W_hh packed for one batch row over T ≥ PACK_MIN_T steps of f32 weights:
// gate blocks g < G of rows [g·H + u0, g·H + u1), each a packed matrix, at this thread's offset in
// the shared PK scratch (after the copies of threads 0..TID−1). 0 (read W_hh in place) otherwise,
// or when the team's copies do not fit the scratch.
function packShare(w: usize, sw: usize, T: i32, B: i32, G: i32, H: i32, u0: i32, u1: i32): usize {
  if (sw || B != 1 || T < PACK_MIN_T || u1 <= u0) return 0;
  let total = 0;
  let off = 0;
  for (let t = 0; t < NT; t++) {
    const n = G * packedFloats(shareHi(H, t, NT) - shareLo(H, t, NT), H);
    if (t < TID) off += n;
    total += n;
  }
  if (total > PK_FLOATS) return 0;
  const pf = <usize>packedFloats(u1 - u0, H);
  const dst = PK + <usize>off;
  for (let g = 0; g < G; g++) pack_rows(dst + <usize>g * pf, w + <usize>(g * H + u0) * <usize>H, u1 - u0, H);
  return dst;
}

// Zeroes columns [u0, u1) of the G blocks of ld floats at p (a masked row's saved gates).
@inline function zeroUnits(p: usize, G: i32, ld: i32, u0: i32, u1: i32): void {
  for (let g = 0; g < G; g++) zeron(p + <usize>(g * ld + u0), u1 - u0);
}

// rnn_forward_mt: rnn_forward (sw_hh = 0) or rnn_forward_q8, this thread's share.
export function rnn_forward_mt(
  pre: usize, h: usize, y: usize, w_hh: usize, sw_hh: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, relu: i32,
): void {
  const BH = <usize>B * <usize>H;
  const u0 = shareLo(H, TID, NT);
  const u1 = shareHi(H, TID, NT);
  const nu = u1 - u0;
  const wp = packShare(w_hh, sw_hh, T, B, 1, H, u0, u1);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const pre_t = pre + <usize>t * BH;
    const h_prev = h + <usize>(reverse ? t + 1 : t) * BH;
    const h_t = h + <usize>(reverse ? t : t + 1) * BH;
    for (let r = 0; nu > 0 && r < B; r++) {
      const ro = <usize>r * <usize>H;
      const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (!stepActive(lens, r, t)) {
        copyn(h_t + ro + <usize>u0, h_prev + ro + <usize>u0, nu);
        zeron(pre_t + ro + <usize>u0, nu);
        if (yr) zeron(yr + <usize>u0, nu);
        continue;
      }
      unitProduct(pre_t + ro, h_prev + ro, w_hh, sw_hh, b_hh, 1, H, H, u0, u1, 1, wp);
      let j = u0;
      for (; j + 4 <= u1; j += 4) rnnLanes(pre_t + ro, h_t + ro, yr, j, 4, relu);
      if (j < u1) rnnLanes(pre_t + ro, h_t + ro, yr, j, u1 - j, relu);
    }
    sync();
  }
}

// lstm_forward_mt: lstm_forward (sw_hh = 0) or lstm_forward_q8, this thread's share.
export function lstm_forward_mt(
  gates: usize, h: usize, c: usize, y: usize, w_hh: usize, sw_hh: usize, b_hh: usize, peep: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, clip: f32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const G4 = 4 * H;
  const u0 = shareLo(H, TID, NT);
  const u1 = shareHi(H, TID, NT);
  const nu = u1 - u0;
  const wp = packShare(w_hh, sw_hh, T, B, 4, H, u0, u1);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates_t = gates + <usize>t * BH * 4;
    const prev = <usize>(reverse ? t + 1 : t) * BH;
    const cur = <usize>(reverse ? t : t + 1) * BH;
    for (let r = 0; nu > 0 && r < B; r++) {
      const g4 = gates_t + <usize>r * <usize>G4;
      const ro = <usize>r * Hs;
      const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
      if (!stepActive(lens, r, t)) {
        copyn(h + cur + ro + <usize>u0, h + prev + ro + <usize>u0, nu);
        copyn(c + cur + ro + <usize>u0, c + prev + ro + <usize>u0, nu);
        zeroUnits(g4, 4, H, u0, u1);
        if (yr) zeron(yr + <usize>u0, nu);
        continue;
      }
      unitProduct(g4, h + prev + ro, w_hh, sw_hh, b_hh, 4, H, H, u0, u1, 1, wp);
      let j = u0;
      for (; j + 4 <= u1; j += 4) lstmLanes(g4, c + prev + ro, c + cur + ro, h + cur + ro, yr, peep, Hs, j, 4, clip);
      if (j < u1) lstmLanes(g4, c + prev + ro, c + cur + ro, h + cur + ro, yr, peep, Hs, j, u1 - j, clip);
    }
    sync();
  }
}

// gru_forward_mt: gru_forward (sw_hh = 0) or gru_forward_q8, this thread's share. The Cho form
// meets twice per step: the second product reads r⊙h_{t-1} of every unit.
export function gru_forward_mt(
  gates: usize, aux: usize, h: usize, y: usize, scratch: usize, w_hh: usize, sw_hh: usize, b_hh: usize, lens: usize,
  T: i32, B: i32, H: i32, ldy: i32, reverse: i32, resetAfter: i32,
): void {
  const Hs = <usize>H;
  const BH = <usize>B * Hs;
  const G3 = 3 * H;
  const sN = scratch + 2 * BH;
  const w_hn = wRow(w_hh, sw_hh, 2 * H, H);
  const sw_hn: usize = sw_hh ? sw_hh + 2 * Hs : 0;
  const b_hn: usize = b_hh ? b_hh + 2 * Hs : 0;
  const u0 = shareLo(H, TID, NT);
  const u1 = shareHi(H, TID, NT);
  const nu = u1 - u0;
  const wp = packShare(w_hh, sw_hh, T, B, 3, H, u0, u1);
  const wpn: usize = wp ? wp + 2 * <usize>packedFloats(nu, H) : 0;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates_t = gates + <usize>t * BH * 3;
    const aux_t = aux + <usize>t * BH;
    const h_prev = h + <usize>(reverse ? t + 1 : t) * BH;
    const h_t = h + <usize>(reverse ? t : t + 1) * BH;
    for (let r = 0; nu > 0 && r < B; r++) {
      const g3 = gates_t + <usize>r * <usize>G3;
      const ro = <usize>r * Hs;
      if (!stepActive(lens, r, t)) {
        copyn(h_t + ro + <usize>u0, h_prev + ro + <usize>u0, nu);
        zeroUnits(g3, 3, H, u0, u1);
        zeron(aux_t + ro + <usize>u0, nu);
        if (y) zeron(y + (<usize>t * <usize>B + <usize>r) * <usize>ldy + <usize>u0, nu);
        continue;
      }
      if (resetAfter) {
        const s3 = scratch + <usize>r * <usize>G3;
        const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
        unitProduct(s3, h_prev + ro, w_hh, sw_hh, b_hh, 3, H, H, u0, u1, 0, wp);
        let j = u0;
        for (; j + 4 <= u1; j += 4) gruAfterLanes(g3, s3, aux_t + ro, h_prev + ro, h_t + ro, yr, Hs, j, 4);
        if (j < u1) gruAfterLanes(g3, s3, aux_t + ro, h_prev + ro, h_t + ro, yr, Hs, j, u1 - j);
      } else {
        const s2 = scratch + <usize>r * 2 * Hs;
        unitProduct(s2, h_prev + ro, w_hh, sw_hh, b_hh, 2, H, H, u0, u1, 0, wp);
        let j = u0;
        for (; j + 4 <= u1; j += 4) gruChoRzLanes(g3, s2, aux_t + ro, h_prev + ro, Hs, j, 4);
        if (j < u1) gruChoRzLanes(g3, s2, aux_t + ro, h_prev + ro, Hs, j, u1 - j);
      }
    }
    if (!resetAfter) {
      sync(); // every unit's r⊙h_{t-1} is in aux_t
      for (let r = 0; nu > 0 && r < B; r++) {
        if (!stepActive(lens, r, t)) continue;
        const g3 = gates_t + <usize>r * <usize>G3;
        const ro = <usize>r * Hs;
        const yr: usize = y ? y + (<usize>t * <usize>B + <usize>r) * <usize>ldy : 0;
        unitProduct(sN + ro, aux_t + ro, w_hn, sw_hn, b_hn, 1, H, H, u0, u1, 0, wpn);
        let j = u0;
        for (; j + 4 <= u1; j += 4) gruChoNLanes(g3, sN + ro, h_prev + ro, h_t + ro, yr, Hs, j, 4);
        if (j < u1) gruChoNLanes(g3, sN + ro, h_prev + ro, h_t + ro, yr, Hs, j, u1 - j);
      }
    }
    sync();
  }
}
