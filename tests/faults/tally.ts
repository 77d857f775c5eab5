/**
 * Lost and duplicated lines from what reached the index: the fault suite writes lines numbered
 * 0..written-1 and reads back the number of every indexed document. Pure.
 * @module
 */

/** What one scenario's lines came to in the index. */
export interface Tally {
  /** Lines written (numbered 0..written-1). */
  written: number;
  /** Documents found. */
  indexed: number;
  /** Numbers written but found in no document. */
  lost: number;
  /** Documents beyond the first for a number (the same line indexed under two ids). */
  duplicated: number;
  /** Documents whose number was never written (a bug in the rig or the pipeline). */
  unexpected: number;
  /** The first few lost numbers, for the failure message. */
  lostSample: number[];
}

/**
 * Counts lost and duplicated lines.
 *
 * @example
 * ```ts
 * import { tallySeqs } from "./tally.ts";
 * tallySeqs(4, [0, 1, 1, 3]); // { written: 4, indexed: 4, lost: 1, duplicated: 1, unexpected: 0, lostSample: [2] }
 * ```
 */
export function tallySeqs(written: number, seqs: Iterable<number>): Tally {
  const seen = new Uint8Array(written);
  let indexed = 0, duplicated = 0, unexpected = 0;
  for (const n of seqs) {
    indexed++;
    if (!Number.isInteger(n) || n < 0 || n >= written) unexpected++;
    else if (seen[n]) duplicated++;
    else seen[n] = 1;
  }
  let lost = 0;
  const lostSample: number[] = [];
  for (let n = 0; n < written; n++) {
    if (seen[n]) continue;
    lost++;
    if (lostSample.length < 10) lostSample.push(n);
  }
  return { written, indexed, lost, duplicated, unexpected, lostSample };
}

/**
 * Sums tallies of several sources of one scenario into one row.
 *
 * @example
 * ```ts
 * import { addTallies, tallySeqs } from "./tally.ts";
 * addTallies([tallySeqs(2, [0, 1]), tallySeqs(1, [])]).lost; // 1
 * ```
 */
export function addTallies(tallies: readonly Tally[]): Tally {
  const sum: Tally = {
    written: 0,
    indexed: 0,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    lostSample: [],
  };
  for (const t of tallies) {
    sum.written += t.written;
    sum.indexed += t.indexed;
    sum.lost += t.lost;
    sum.duplicated += t.duplicated;
    sum.unexpected += t.unexpected;
    sum.lostSample.push(...t.lostSample.slice(0, 10 - sum.lostSample.length));
  }
  return sum;
}

/** "lost 3 (first 4,5,9), 2 duplicated, 0 unexpected" for assertion messages. */
export function describeTally(t: Tally): string {
  const first = t.lostSample.length > 0 ? ` (first ${t.lostSample.join(",")})` : "";
  return `${t.written} written, ${t.indexed} indexed, ${t.lost} lost${first}, ` +
    `${t.duplicated} duplicated, ${t.unexpected} unexpected`;
}
