/**
 * A latency histogram in the manner of HdrHistogram: values in microseconds, exact below 128 µs, then 64
 * sub-buckets per power of two (relative error under 1.6 %), up to about 2^31 µs (36 min). Fixed memory,
 * O(1) record, mergeable across worker threads (the counts travel as a plain array).
 */
const EXACT = 128;
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64 sub-buckets per power of two above EXACT
const MAX_SHIFT = 31 - SUB_BITS;
const SIZE = EXACT + MAX_SHIFT * SUB;

export interface HistogramData {
  counts: number[];
  total: number;
  min: number;
  max: number;
  sum: number;
}

export class Histogram {
  private readonly counts = new Float64Array(SIZE);
  total = 0;
  min = Infinity;
  max = 0;
  sum = 0;

  /** Records one value in microseconds (negative values count as 0, huge ones land in the last bucket). */
  record(us: number): void {
    const v = Math.max(0, Math.round(us));
    this.counts[indexOf(v)]! += 1;
    this.total++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The value at quantile q (0..1): the middle of the bucket holding the rank ceil(q * total). */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, midpointOf(i)));
    }
    return this.max;
  }

  mean(): number {
    return this.total === 0 ? NaN : this.sum / this.total;
  }

  merge(other: Histogram | HistogramData): this {
    const counts = other instanceof Histogram ? other.counts : other.counts;
    for (let i = 0; i < SIZE; i++) this.counts[i]! += counts[i] ?? 0;
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
    return this;
  }

  toData(): HistogramData {
    return {
      counts: Array.from(this.counts),
      total: this.total,
      min: this.min,
      max: this.max,
      sum: this.sum,
    };
  }

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}

function indexOf(v: number): number {
  if (v < EXACT) return v;
  const msb = 31 - Math.clz32(Math.min(v, 0x7fffffff));
  const shift = msb - SUB_BITS; // >= 1 since v >= 128
  const sub = v >>> shift; // in [64, 127]
  return Math.min(SIZE - 1, EXACT + (shift - 1) * SUB + (sub - SUB));
}

/** Lowest value of bucket i. */
function lowerOf(i: number): number {
  if (i < EXACT) return i;
  const shift = Math.floor((i - EXACT) / SUB) + 1;
  const sub = ((i - EXACT) % SUB) + SUB;
  return sub * 2 ** shift;
}

function midpointOf(i: number): number {
  if (i < EXACT) return i;
  const shift = Math.floor((i - EXACT) / SUB) + 1;
  return lowerOf(i) + (2 ** shift - 1) / 2;
}
