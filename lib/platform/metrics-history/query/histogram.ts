// Quantiles from merged histogram buckets, computed exactly as Prometheus' histogram_quantile
// does (linear interpolation within the bucket holding the rank; the highest finite bound when the
// rank falls in +Inf), so both sources turn the same buckets into the same number.

/** `counts` are per-bucket (not cumulative): one per bound, then the +Inf overflow. */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  if (counts.length !== bounds.length + 1)
    throw new RangeError(`expected ${bounds.length + 1} bucket counts, got ${counts.length}`);
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (!(total > 0) || !(q >= 0 && q <= 1)) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const count = counts[i]!;
    if (below + count >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      if (i === 0 && upper <= 0) return upper;
      return count === 0 ? lower : lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bounds[bounds.length - 1]!;
}
