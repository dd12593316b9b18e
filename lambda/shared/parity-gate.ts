import type { ParitySummary } from './parity-summary';

/**
 * The parity gate, as a pure decision: green's weight may rise only when the latest result of EVERY
 * configured pair exists, compared (not an error), is within the pair's maxDifferences, and is younger than
 * the pair's maximum age. A pair with no result, an old one or a failed one closes the gate: the safe answer
 * is "not now". One decision for the shift command's preflight and the rollout state machine's gates.
 */

/** What the gate knows of a configured pair (from the deployed config). */
export interface ParityGatePair {
  readonly name: string;
  readonly maxDifferences: number;
  readonly maxAgeMinutes: number;
}

export type ParityGateReason = 'missing' | 'error' | 'too-many-differences' | 'stale';

export interface ParityGateProblem {
  readonly pair: string;
  readonly reason: ParityGateReason;
  /** For people: what was seen, against what. */
  readonly message: string;
}

export interface ParityGateDecision {
  readonly open: boolean;
  readonly problems: readonly ParityGateProblem[];
}

/** Deployment parameter (cli/deployed.ts) holding the pairs as JSON, for the shift command's preflight. */
export const PARITY_GATE_PARAMETER = 'parity/gate-pairs';
/** Environment variable of the rollout function holding the pairs as JSON. */
export const PARITY_GATE_ENV = 'PARITY_GATE_PAIRS';

export function judgeParity(
  pairs: readonly ParityGatePair[],
  summaries: readonly ParitySummary[],
  nowMs: number,
): ParityGateDecision {
  const latest = new Map(summaries.map((s) => [s.pair, s]));
  const problems: ParityGateProblem[] = [];
  for (const p of pairs) {
    const s = latest.get(p.name);
    const add = (reason: ParityGateReason, message: string) =>
      problems.push({ pair: p.name, reason, message: `parity ${p.name}: ${message}` });
    if (!s) {
      add('missing', 'no result recorded yet (has the parity function run?)');
      continue;
    }
    const ageMs = nowMs - Date.parse(s.checkedAt);
    if (!(ageMs <= p.maxAgeMinutes * 60_000)) {
      const age = Number.isFinite(ageMs) ? `${Math.round(ageMs / 60_000)} min ago` : 'at an unreadable time';
      add('stale', `last result ${s.checkedAt} (${age}), expected one within ${p.maxAgeMinutes} min`);
    }
    if (s.status === 'error') {
      add('error', `could not compare at ${s.checkedAt}${s.failure ? `: ${s.failure}` : ''}`);
    } else if (!(s.differences <= p.maxDifferences)) {
      add(
        'too-many-differences',
        `${s.differences} difference(s) at ${s.checkedAt} (only in blue ${s.onlyInBlue}, only in green ${s.onlyInGreen}, changed ${s.changed}, duplicate keys ${s.duplicateKeys.blue}/${s.duplicateKeys.green}, null keys ${s.nullKeys.blue}/${s.nullKeys.green}), at most ${p.maxDifferences} allowed`,
      );
    }
  }
  return { open: problems.length === 0, problems };
}

/** The pairs as the rollout function receives them (environment variable PARITY_GATE_PAIRS, JSON). */
export function parseParityGatePairs(json: string | undefined): ParityGatePair[] {
  if (json === undefined || json === '') return [];
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error('PARITY_GATE_PAIRS must be a JSON array');
  return parsed.map((p: unknown, i) => {
    const o = p as Partial<ParityGatePair>;
    if (
      typeof o?.name !== 'string' ||
      !Number.isInteger(o.maxDifferences) ||
      !Number.isInteger(o.maxAgeMinutes)
    ) {
      throw new Error(`PARITY_GATE_PAIRS[${i}] must have name, maxDifferences and maxAgeMinutes`);
    }
    return { name: o.name, maxDifferences: o.maxDifferences!, maxAgeMinutes: o.maxAgeMinutes! };
  });
}
