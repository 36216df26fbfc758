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
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff;
    return state % n;
  };
}
