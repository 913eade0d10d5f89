/**
 * Sorting by 64-bit keys without comparisons: a least-significant-digit radix sort, for the
 * planner's tens of thousands of paths and groups, where `Array.prototype.sort` with a
 * comparator (or even the native sort of a Float64Array) spends most of its time on
 * comparisons.
 */

/** Bits of the key that one pass sorts by: 2048 counters, which stay in the L1 cache. */
const DIGIT_BITS = 11;
const DIGIT_MASK = (1 << DIGIT_BITS) - 1;

/**
 * The indices 0..n-1 in ascending order of their keys `high[i] · 2^32 + low[i]` (unsigned
 * 32-bit words), equal keys in ascending order of index (the sort is stable). A pass whose
 * digit is 0 in every key — the high bits of small keys, say — is skipped, and one whose
 * digit is the same in every key only counts.
 */
export function radixOrder(low: Uint32Array, high: Uint32Array): Int32Array {
  const n = low.length;
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Int32Array(n);
  const count = new Int32Array(DIGIT_MASK + 2);
  for (const words of [low, high]) {
    // The bits set in any key: a digit that is 0 in every key needs no pass at all.
    let bits = 0;
    for (let i = 0; i < n; i++) bits |= words[i]!;
    for (let shift = 0; shift < 32; shift += DIGIT_BITS) {
      if (((bits >>> shift) & DIGIT_MASK) === 0) continue;
      count.fill(0);
      for (let i = 0; i < n; i++) count[((words[i]! >>> shift) & DIGIT_MASK) + 1]!++;
      if (n === 0 || count[((words[0]! >>> shift) & DIGIT_MASK) + 1] === n) continue;
      for (let d = 0; d < DIGIT_MASK; d++) count[d + 1]! += count[d]!;
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        next[count[(words[i]! >>> shift) & DIGIT_MASK]!++] = i;
      }
      [order, next] = [next, order];
    }
  }
  return order;
}

/** Whether this machine stores the low word of a double first (every platform Node runs on does). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The order of `values` (doubles, none NaN) for radixOrder: ascending by value, -0 and 0
 * as equals, equal values by index. The bits of a double compare like the double itself
 * once the sign bit is flipped for positive numbers and every bit for negative ones.
 */
export function radixOrderOfDoubles(values: Float64Array): Int32Array {
  const n = values.length;
  const low = new Uint32Array(n);
  const high = new Uint32Array(n);
  const double = new Float64Array(1);
  const words = new Uint32Array(double.buffer);
  const [lo, hi] = LITTLE_ENDIAN ? [0, 1] : [1, 0];
  for (let i = 0; i < n; i++) {
    double[0] = values[i]! + 0; // -0 + 0 is 0
    const negative = words[hi]! >>> 31 === 1;
    low[i] = negative ? ~words[lo]! >>> 0 : words[lo]!;
    high[i] = negative ? ~words[hi]! >>> 0 : (words[hi]! | 0x80000000) >>> 0;
  }
  return radixOrder(low, high);
}
