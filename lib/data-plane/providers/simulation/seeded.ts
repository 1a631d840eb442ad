// Small deterministic randomness for the simulator: everything it answers is a pure function of
// the request, so equal requests get equal answers in every instance and every run.

/** FNV-1a over UTF-16 code units: a few operations a character (a SHA-256 per request was a tenth of the simulator's cost). */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** xorshift32: a fast sequence of unsigned 32-bit numbers from a seed. */
export class Seeded {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  next(): number {
    let state = this.state;
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    this.state = state >>> 0;
    return this.state;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return bound <= 1 ? 0 : this.next() % bound;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}
