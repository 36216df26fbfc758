/**
 * A deterministic pseudo-random source for generated test inputs: the same seed gives the
 * same sequence on every run and machine, so a failure names an input that can be rerun.
 * `random(n)` returns an integer in [0, n).
 *
 * @example
 * const random = seededRandom(20_261_129);
 * const pick = items[random(items.length)];
 */
export function seededRandom(seed: number): (n: number) => number {
  // mulberry32: 32-bit integer steps (Math.imul), scaled from the high bits. A plain linear
  // congruential step taken modulo n repeats its low bits in short cycles (parity alternates),
  // so some sequences of picks never came out.
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
  };
}
