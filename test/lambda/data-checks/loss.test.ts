import { countReason, lossSince } from '../../../lambda/data-checks/checker';
import { metricData } from '../../../lambda/data-checks/metrics';
import type { Counters, TableState } from '../../../lambda/data-checks/state-store';
import type { RunReport } from '../../../lambda/data-checks/checker';

/**
 * The loss arithmetic on its own, for the cases a live server cannot be made to produce on demand
 * (statistics still in flight, an ANALYZE between two runs). The live cases are in checker.test.ts.
 */
const C0: Counters = { ins: 100, upd: 0, del: 0, mod: 100, analyzes: 1 };
const prev: TableState = {
  key: 'public.t',
  oid: 10,
  relfilenode: 20,
  count: 100,
  countedAt: '2026-01-01T00:00:00.000Z',
  counters: C0,
  epoch: 'e',
  rollbacks: 5,
};
const obs = (
  c: Partial<Counters>,
  extra: { rollbacks?: number; relfilenode?: number; oid?: number; epoch?: string } = {},
) => ({
  oid: extra.oid ?? 10,
  relfilenode: extra.relfilenode ?? 20,
  partitioned: false,
  counters: { ...C0, ...c },
  epoch: extra.epoch ?? 'e',
  rollbacks: extra.rollbacks ?? 5,
});
const table = {
  schemaName: 'public',
  table: 't',
  noDecrease: true,
  appendOnly: true,
  trackSchema: true,
} as const;

describe('countReason: when the counters prove nothing was lost', () => {
  it('no delete, same relfilenode, same epoch: no count', () => {
    expect(countReason(table, prev, obs({ ins: 150, mod: 150 }))).toBeUndefined();
  });
  it.each([
    ['no baseline', undefined, obs({}), 'first run: baseline'],
    ['a new oid', prev, obs({}, { oid: 11 }), 'table replaced (new oid)'],
    ['a new statistics epoch', prev, obs({}, { epoch: 'f' }), 'statistics reset'],
    ['counters that went backwards', prev, obs({ ins: 3 }), 'statistics reset'],
    ['a new relfilenode', prev, obs({}, { relfilenode: 21 }), 'new relfilenode (TRUNCATE or rewrite)'],
    ['a counted delete', prev, obs({ del: 2 }), '2 delete(s) counted'],
  ])('%s: counted exactly', (_n, p, o, reason) => {
    expect(countReason(table, p, o)).toBe(reason);
  });
  it('a floor not yet proven: counted', () => {
    expect(countReason({ ...table, minRows: 101 }, prev, obs({}))).toBe('last exact count below the floor');
    expect(countReason({ ...table, minRows: 100 }, prev, obs({}))).toBeUndefined();
  });
});

describe('lossSince', () => {
  it('committed deletes among rolled-back ones, from committed changes', () => {
    // 3 deletes counted, 1 committed; 2 committed inserts; one insert rolled back.
    const v = lossSince(prev, obs({ ins: 103, del: 3, mod: 103 }, { rollbacks: 7 }), 101, 'x');
    expect(v).toMatchObject({ lost: 1, decided: true });
  });

  it('a rolled-back delete alone loses nothing', () => {
    expect(lossSince(prev, obs({ del: 1 }, { rollbacks: 6 }), 100, 'x')).toMatchObject({
      lost: 0,
      decided: true,
    });
  });

  it('counters that do not add up yet are "unsettled", not a verdict', () => {
    // A committed delete reached the counters, a committed insert (already in the count) has not yet.
    const v = lossSince(prev, obs({ del: 1, mod: 101 }, { rollbacks: 6 }), 100, 'x');
    expect(v).toMatchObject({ unsettled: true, decided: false, lost: 0 });
  });

  it('unsettled, but the count is below the last exact count: that much is certain', () => {
    const v = lossSince(prev, obs({ del: 1, mod: 101 }, { rollbacks: 6 }), 98, 'x');
    expect(v).toMatchObject({ unsettled: true, lost: 2 });
  });

  it('after an ANALYZE, with no rollback in the database, every counted delete is committed', () => {
    const v = lossSince(prev, obs({ ins: 101, del: 2, mod: 0, analyzes: 2 }), 99, 'x');
    expect(v).toMatchObject({ lost: 2, decided: true });
  });

  it('after an ANALYZE and a rollback, a drop below the last count is still certain', () => {
    const v = lossSince(prev, obs({ del: 2, mod: 0, analyzes: 2 }, { rollbacks: 6 }), 98, 'x');
    expect(v).toMatchObject({ lost: 2, decided: true });
  });

  it('after an ANALYZE and a rollback, no drop: undecidable, reported as such', () => {
    const v = lossSince(prev, obs({ ins: 101, del: 1, mod: 0, analyzes: 2 }, { rollbacks: 6 }), 100, 'x');
    expect(v).toMatchObject({ lost: 0, decided: false, unsettled: false });
    expect(v.how).toMatch(/cannot tell committed deletes from rolled-back ones/);
  });

  it('after an ANALYZE, counts that disagree with the counters are looked at again, not paged', () => {
    // An insert committed before the last count but counted by the statistics only now would otherwise
    // look like a lost row.
    const v = lossSince(prev, obs({ ins: 102, del: 1, mod: 0, analyzes: 2 }), 100, 'x');
    expect(v).toMatchObject({ unsettled: true, decided: false, lost: 0 });
  });

  it('a new relfilenode with every expected row present is a rewrite (VACUUM FULL), not a loss', () => {
    expect(lossSince(prev, obs({}, { relfilenode: 21 }), 100, 'x')).toMatchObject({ lost: 0, decided: true });
  });

  it('a new relfilenode with a shortfall: looked at again, then reported as truncated', () => {
    const o = obs({ ins: 200, mod: 200 }, { relfilenode: 21 });
    expect(lossSince(prev, o, 100, 'x')).toMatchObject({ unsettled: true, lost: 0 });
    expect(lossSince({ ...prev, unsettledRuns: 1 }, o, 100, 'x')).toMatchObject({ decided: true, lost: 100 });
  });

  it('a replaced table lost every baseline row', () => {
    expect(
      lossSince(prev, obs({ ins: 0, mod: 0 }, { oid: 11 }), 100, 'table replaced (new oid)'),
    ).toMatchObject({ lost: 100 });
  });
});

describe('metricData', () => {
  const report = (over: Partial<RunReport>): RunReport => ({
    status: 'ok',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    databaseMs: 12,
    results: [],
    tables: [],
    freshness: [],
    custom: [],
    exactCounts: [],
    failures: [],
    ...over,
  });

  it('a failed table gets a failure datapoint and no values that would look healthy', () => {
    const data = metricData(
      'prod',
      report({
        status: 'error',
        tables: [{ key: 'public.t', rowCountExact: false, method: 'none', failed: true }],
        results: [
          {
            target: 'public.t',
            rule: 'noDecrease',
            status: 'error',
            value: '-',
            threshold: '-',
            detail: 'x',
          },
        ],
      }),
    );
    const names = data.map(
      (d) => `${d.MetricName}:${d.Dimensions?.map((x) => x.Value).join('/')}=${d.Value}`,
    );
    expect(names).toEqual([
      'CheckFailures:prod/public.t=1',
      'CheckFailures:prod=1',
      'CheckDatabaseTimeMs:prod=12',
    ]);
  });

  it('a complete run sends a heartbeat', () => {
    const data = metricData('prod', report({}));
    expect(data.find((d) => d.MetricName === 'Heartbeat')?.Value).toBe(1);
  });
});
