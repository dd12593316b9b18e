import type { ParitySummary } from '../shared/parity-summary';
import type { ParityResult } from './result';

/** What the gates keep of a run: the counts, not the samples (those go to the log). */
export function paritySummaryOf(pair: string, maxDifferences: number, r: ParityResult): ParitySummary {
  return {
    pair,
    status: r.status,
    checkedAt: r.finishedAt,
    differences: r.differences,
    maxDifferences,
    onlyInBlue: r.onlyInBlue,
    onlyInGreen: r.onlyInGreen,
    changed: r.changed,
    duplicateKeys: r.duplicateKeys,
    nullKeys: r.nullKeys,
    rows: r.rows,
    comparedShare: r.comparedShare,
    ...(r.failure ? { failure: `${r.failure.kind}: ${r.failure.message}` } : {}),
  };
}
