import { judgeParity, parseParityGatePairs, type ParityGatePair } from '../../../lambda/shared/parity-gate';
import type { ParitySummary } from '../../../lambda/shared/parity-summary';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const PAIRS: ParityGatePair[] = [
  { name: 'box-score-players', maxDifferences: 0, maxAgeMinutes: 120 },
  { name: 'games', maxDifferences: 2, maxAgeMinutes: 60 },
];

function summary(pair: string, over: Partial<ParitySummary> = {}): ParitySummary {
  return {
    pair,
    status: 'identical',
    checkedAt: new Date(NOW - 10 * 60_000).toISOString(),
    differences: 0,
    maxDifferences: 0,
    onlyInBlue: 0,
    onlyInGreen: 0,
    changed: 0,
    duplicateKeys: { blue: 0, green: 0 },
    nullKeys: { blue: 0, green: 0 },
    rows: { blue: 10, green: 10 },
    comparedShare: 1,
    ...over,
  };
}

const reasons = (d: ReturnType<typeof judgeParity>) => d.problems.map((p) => [p.pair, p.reason]);

describe('the parity gate', () => {
  it('opens when every pair is fresh and within its maxDifferences', () => {
    const d = judgeParity(
      PAIRS,
      [summary('box-score-players'), summary('games', { status: 'different', differences: 2, changed: 2 })],
      NOW,
    );
    expect(d).toEqual({ open: true, problems: [] });
  });

  it('closes on more differences than allowed, naming the kinds', () => {
    const d = judgeParity(
      PAIRS,
      [
        summary('box-score-players', { status: 'different', differences: 1, onlyInGreen: 1 }),
        summary('games'),
      ],
      NOW,
    );
    expect(reasons(d)).toEqual([['box-score-players', 'too-many-differences']]);
    expect(d.problems[0]!.message).toMatch(
      /parity box-score-players: 1 difference\(s\) .*only in green 1.*at most 0 allowed/,
    );
  });

  it('closes on a pair with no result, a stale result, an unreadable time, or a failed comparison', () => {
    expect(reasons(judgeParity(PAIRS, [summary('games')], NOW))).toEqual([['box-score-players', 'missing']]);
    const stale = summary('games', { checkedAt: new Date(NOW - 61 * 60_000).toISOString() });
    expect(reasons(judgeParity(PAIRS, [summary('box-score-players'), stale], NOW))).toEqual([
      ['games', 'stale'],
    ]);
    const garbled = summary('games', { checkedAt: 'yesterday' });
    expect(reasons(judgeParity(PAIRS, [summary('box-score-players'), garbled], NOW))).toEqual([
      ['games', 'stale'],
    ]);
    const failed = summary('games', {
      status: 'error',
      failure: 'missing-object: relation unified.games does not exist',
    });
    const d = judgeParity(PAIRS, [summary('box-score-players'), failed], NOW);
    expect(reasons(d)).toEqual([['games', 'error']]);
    expect(d.problems[0]!.message).toMatch(/unified\.games does not exist/);
  });

  it('judges with the deployed budget, not the one recorded by the run', () => {
    const recordedLenient = summary('box-score-players', {
      differences: 3,
      maxDifferences: 5,
      status: 'different',
    });
    expect(reasons(judgeParity(PAIRS, [recordedLenient, summary('games')], NOW))).toEqual([
      ['box-score-players', 'too-many-differences'],
    ]);
  });

  it('is open with no configured pair, and ignores results of pairs no longer configured', () => {
    expect(judgeParity([], [], NOW).open).toBe(true);
    expect(
      judgeParity(PAIRS.slice(0, 1), [summary('box-score-players'), summary('old', { status: 'error' })], NOW)
        .open,
    ).toBe(true);
  });

  it('reads the pairs from JSON and rejects malformed ones', () => {
    expect(parseParityGatePairs(undefined)).toEqual([]);
    expect(parseParityGatePairs(JSON.stringify(PAIRS))).toEqual(PAIRS);
    expect(() => parseParityGatePairs('{}')).toThrow(/must be a JSON array/);
    expect(() => parseParityGatePairs('[{"name":"x"}]')).toThrow(/PARITY_GATE_PAIRS\[0\] must have/);
  });
});
