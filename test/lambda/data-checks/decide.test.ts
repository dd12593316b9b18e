import {
  compareRanges,
  countersWentBack,
  lookReason,
  missingLabel,
  normalizeRanges,
  planAudit,
  reasonText,
  type Observation,
} from '../../../lambda/data-checks/decide';
import { metricData } from '../../../lambda/data-checks/metrics';
import type { RunReport } from '../../../lambda/data-checks/results';
import type { Counters, Segment, TableState } from '../../../lambda/data-checks/state';

/** The loss decisions on their own, without a server: typed reasons, range comparison, audit plan. */
const C0: Counters = { ins: 100, upd: 5, del: 0, hot: 1, scans: 7, vacuums: 1, analyzes: 1 };
const prev: TableState = {
  key: 'public.t',
  oid: 10,
  relfilenode: 20,
  count: 100,
  countedAt: '2026-01-01T00:00:00.000Z',
  counters: C0,
  keyColumn: 'id',
  segments: [[1, 100, 100, '0']],
  watermark: 100,
};
const obs = (c: Partial<Counters> = {}, extra: Partial<Observation> = {}): Observation => ({
  oid: 10,
  relfilenode: 20,
  partitioned: false,
  counters: { ...C0, ...c },
  keyColumn: 'id',
  ...extra,
});
const cfg = {
  schemaName: 'public',
  table: 't',
  noDecrease: true,
  appendOnly: true,
  trackSchema: true,
} as const;

describe('lookReason: counters and the catalog decide only when to read', () => {
  it('nothing suspicious: no read (updates and inserts alone are not suspicious)', () => {
    expect(lookReason(cfg, prev, obs({ ins: 150, upd: 90 }), false)).toBeUndefined();
  });
  it.each([
    ['no baseline', undefined, obs(), false, 'first-run'],
    ['accepted', prev, obs(), true, 'accepted'],
    ['a new oid', prev, obs({}, { oid: 11 }), false, 'replaced'],
    ['a counter that went back', prev, obs({ scans: 3 }), false, 'counters-reset'],
    ['a new relfilenode', prev, obs({}, { relfilenode: 21 }), false, 'rewritten'],
    ['a counted delete', prev, obs({ del: 2 }), false, 'deletes-counted'],
    ['a partitioned table', prev, obs({}, { partitioned: true }), false, 'partitioned'],
    [
      'a key that appeared',
      { ...prev, keyColumn: undefined, segments: undefined },
      obs(),
      false,
      'key-changed',
    ],
  ] as const)('%s: read exactly', (_n, p, o, accepted, kind) => {
    expect(lookReason(cfg, p, o, accepted)?.kind).toBe(kind);
  });
  it('a floor not yet proven: read exactly', () => {
    expect(lookReason({ ...cfg, minRows: 101 }, prev, obs(), false)?.kind).toBe('below-floor');
    expect(lookReason({ ...cfg, minRows: 100 }, prev, obs(), false)).toBeUndefined();
  });
  it('a reset is seen on any counter of the table, not on other tables or shared statistics', () => {
    expect(countersWentBack(C0, { ...C0, ins: 200 })).toBe(false);
    for (const f of ['ins', 'upd', 'del', 'hot', 'scans', 'vacuums', 'analyzes'] as const) {
      expect(countersWentBack({ ...C0, [f]: 5 }, { ...C0, [f]: 4 })).toBe(true);
    }
  });
  it('reasons read as sentences', () => {
    expect(reasonText({ kind: 'deletes-counted', deletes: 3 })).toBe('3 delete(s) counted');
  });
});

describe('compareRanges: what an exact read proves', () => {
  const dense: Segment = [1, 100, 100, '500'];
  const sparse: Segment = [200, 400, 50, '900'];

  it('unchanged ranges: nothing lost, nothing to re-read', () => {
    expect(
      compareRanges(
        'id',
        [dense, sparse],
        [
          { rows: 100, hash: '500' },
          { rows: 50, hash: '900' },
        ],
      ),
    ).toMatchObject({ lost: 0, changed: [], unverifiedRanges: [] });
  });

  it('a dense range that holds fewer rows lost exactly that many', () => {
    const c = compareRanges('id', [dense], [{ rows: 97, hash: '1' }]);
    expect(c).toMatchObject({
      lost: 3,
      changed: [0],
      unverifiedRanges: [],
      lostRanges: ['id 1-100: 3 rows lost'],
    });
    expect(c.denseLost).toEqual([{ segment: 0, label: 0 }]);
  });

  it('a sparse range that fell: the fall is certain, more may be hidden by rows added in its gaps', () => {
    const c = compareRanges('id', [sparse], [{ rows: 49, hash: '2' }]);
    expect(c.lost).toBe(1);
    expect(c.unverifiedRanges).toHaveLength(1);
  });

  it('a sparse range with as many rows but other keys: could not verify, not a page', () => {
    const c = compareRanges('id', [sparse], [{ rows: 50, hash: '7' }]);
    expect(c.lost).toBe(0);
    expect(c.unverifiedRanges[0]).toMatch(/id 200-400/);
  });

  it('a sparse range emptied: all its rows lost, exactly', () => {
    expect(compareRanges('id', [sparse], [{ rows: 0, hash: '0' }])).toMatchObject({
      lost: 50,
      unverifiedRanges: [],
    });
  });

  it('labels the missing keys of a dense range as runs', () => {
    expect(
      missingLabel(
        'id',
        [
          [7, 7],
          [9, 12],
        ],
        5,
      ),
    ).toBe('id 7, 9-12: 5 rows lost');
    expect(missingLabel('id', [[7, 7]], 3)).toBe('id 7, ...: 3 rows lost');
  });
});

describe('normalizeRanges', () => {
  it('merges contiguous dense ranges up to the target size, keeps gaps', () => {
    const r = normalizeRanges([
      [1, 10, 10, '1'],
      [11, 20, 10, '2'],
      [30, 30, 1, '3'],
    ]);
    expect(r).toEqual([
      [1, 20, 20, '3'],
      [30, 30, 1, '3'],
    ]);
  });
  it('caps the number of ranges by merging the smallest neighbours into sparse ranges', () => {
    const many: Segment[] = Array.from({ length: 40 }, (_, i) => [i * 10, i * 10 + 4, 5, String(i)]);
    const r = normalizeRanges(many, 8);
    expect(r).toHaveLength(8);
    expect(r.reduce((n, s) => n + s[2], 0)).toBe(200);
    expect(r.reduce((n, s) => n + BigInt(s[3]), 0n)).toBe(BigInt((39 * 40) / 2));
    for (let i = 1; i < r.length; i++) expect(r[i]![0]).toBeGreaterThan(r[i - 1]![1]);
  });
});

describe('planAudit: every row read exactly within exactEveryMinutes, spread over the runs', () => {
  const segments: Segment[] = Array.from({ length: 60 }, (_, i) => [i * 100 + 1, i * 100 + 100, 100, '0']);
  const start = Date.parse('2026-01-01T00:00:00.000Z');

  it.each([
    [1, 60],
    [5, 60],
    [5, 5],
    [15, 240],
  ])('schedule %i min, every %i min: whole passes, no run above twice its share', (schedule, every) => {
    let state: TableState = {
      ...prev,
      segments,
      watermark: 6000,
      audit: { cycleStartedAt: new Date(start).toISOString() },
    };
    const lastRead = new Map<number, number>();
    const perRun: number[] = [];
    let worstGap = 0;
    for (let run = 1; run <= (3 * every) / schedule; run++) {
      const now = new Date(start + run * schedule * 60_000);
      const slice = planAudit(state, now, schedule, every);
      let rows = 0;
      if (slice && slice !== 'whole') {
        for (let i = slice.from; i < slice.to; i++) {
          rows += segments[i]![2];
          const before = lastRead.get(i) ?? start;
          worstGap = Math.max(worstGap, now.getTime() - before);
          lastRead.set(i, now.getTime());
        }
        state = {
          ...state,
          audit: slice.completesPass
            ? { cycleStartedAt: now.toISOString() }
            : { nextKey: segments[slice.to]![0], cycleStartedAt: state.audit!.cycleStartedAt },
        };
      }
      perRun.push(rows);
    }
    expect(worstGap).toBeLessThanOrEqual((every + schedule) * 60_000);
    const share = (6000 * schedule) / Math.max(schedule, every - schedule);
    expect(Math.max(...perRun)).toBeLessThanOrEqual(Math.max(2 * share, 100) + 100);
  });

  it('a table without key ranges is counted whole once its pass is due', () => {
    const keyless: TableState = { ...prev, keyColumn: undefined, segments: undefined };
    expect(planAudit(keyless, new Date(start + 30 * 60_000), 5, 60)).toBeUndefined();
    expect(planAudit(keyless, new Date(start + 55 * 60_000), 5, 60)).toBe('whole');
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
  const names = (r: RunReport) =>
    metricData('prod', r).map(
      (d) => `${d.MetricName}:${d.Dimensions?.map((x) => x.Value).join('/')}=${d.Value}`,
    );

  it('a failed table gets a failure datapoint and no values that would look healthy', () => {
    expect(
      names(
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
      ),
    ).toEqual(['CheckFailures:prod/public.t=1', 'CheckFailures:prod=1']);
  });

  const table = (key: string, rowsLost: number, over: Partial<RunReport['tables'][number]> = {}) => ({
    key,
    rowCount: 9,
    rowCountExact: true,
    rowsLost,
    unverified: 0 as const,
    schemaChanged: 0 as const,
    method: 'exact' as const,
    failed: false,
    guarded: true,
    tracked: true,
    ...over,
  });

  it('publishes the largest open loss per run, and the per-table loss only while non-zero', () => {
    const n = names(report({ status: 'violation', tables: [table('public.a', 0), table('public.b', 7)] }));
    expect(n.filter((x) => x.startsWith('RowsLost'))).toEqual([
      'RowsLost:prod/public.b=7',
      'RowsLost:prod=7',
    ]);
    expect(n).toContain('SchemaChangedTables:prod=0');
    const clean = names(report({ tables: [table('public.a', 0), table('public.b', 0)] }));
    expect(clean.filter((x) => x.startsWith('RowsLost'))).toEqual(['RowsLost:prod=0']);
  });

  it('never publishes a per-run 0 that a table it could not look at might contradict', () => {
    // public.b holds an open loss but could not be checked this run: no per-run RowsLost, UnverifiedTables or
    // SchemaChangedTables at all (the alarms keep their state through the gap; the run's error results, left out
    // here, also stop the heartbeat).
    const failed = table('public.b', 0, {
      rowsLost: undefined,
      unverified: undefined,
      schemaChanged: undefined,
      rowCount: undefined,
      method: 'none',
      failed: true,
    });
    const n = names(report({ status: 'error', tables: [table('public.a', 0), failed] }));
    expect(n.filter((x) => /^(RowsLost|UnverifiedTables|SchemaChangedTables):prod=/.test(x))).toEqual([]);
    // A run that stopped early (a failure of the run, whatever tables it listed) publishes none either.
    const early = names(
      report({
        status: 'error',
        tables: [table('public.a', 0)],
        failures: [{ kind: 'unreachable', message: 'connection lost' }],
      }),
    );
    expect(early.filter((x) => /^(RowsLost|UnverifiedTables|SchemaChangedTables):prod=/.test(x))).toEqual([]);
    expect(early).toContain('DatabaseUnreachable:prod=1');
  });

  it('counts the tables whose schema changed per run; the per-table flag only while set', () => {
    const n = names(
      report({
        tables: [table('public.a', 0, { schemaChanged: 1 }), table('public.b', 0, { schemaChanged: 1 })],
      }),
    );
    expect(n.filter((x) => x.startsWith('SchemaChanged'))).toEqual([
      'SchemaChanged:prod/public.a=1',
      'SchemaChanged:prod/public.b=1',
      'SchemaChangedTables:prod=2',
    ]);
  });

  it('one loss is one RowsLost datapoint (no second metric carrying the same number)', () => {
    const n = names(
      report({
        status: 'violation',
        tables: [
          {
            key: 'public.t',
            rowCount: 9,
            rowCountExact: true,
            rowsLost: 1,
            unverified: 0,
            method: 'exact',
            failed: false,
          },
        ],
      }),
    );
    expect(n.filter((x) => x.endsWith('=1') && x.includes('public.t'))).toEqual(['RowsLost:prod/public.t=1']);
    expect(n).toContain('Heartbeat:prod=1');
  });

  it('an open "could not verify" is its own metric, not a check failure, and keeps the heartbeat', () => {
    const n = names(
      report({
        status: 'error',
        tables: [
          {
            key: 'public.t',
            rowCount: 9,
            rowCountExact: true,
            rowsLost: 0,
            unverified: 1,
            method: 'counters',
            failed: false,
          },
        ],
        results: [
          {
            target: 'public.t',
            rule: 'noDecrease',
            status: 'error',
            value: 'could not verify',
            threshold: '0 rows lost',
            detail: 'x',
            failure: 'unverified',
          },
        ],
      }),
    );
    expect(n).toEqual(
      expect.arrayContaining(['Unverified:prod/public.t=1', 'UnverifiedTables:prod=1', 'Heartbeat:prod=1']),
    );
    expect(n.filter((x) => x.startsWith('CheckFailures'))).toEqual([]);
  });
});
