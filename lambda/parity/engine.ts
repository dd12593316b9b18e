import type { Client, QueryResultRow } from 'pg';
import { asCheckFailed, CheckFailedError } from '../data-checks/connection';
import { CANONICAL_SETTINGS } from './canonical';
import { planComparison, type ComparePlan } from './catalog';
import {
  differencesOf,
  failedResult,
  type DifferenceKind,
  type ParityResult,
  type ParitySample,
  type ParityWindowReport,
  type PerSide,
} from './result';
import {
  DEFAULT_BUCKETS,
  DEFAULT_SAMPLE_LIMIT,
  DEFAULT_SETTLE_MINUTES,
  relationKey,
  type ParitySpec,
} from './spec';
import {
  bucketAggregateSql,
  duplicateScanSql,
  joinDiffSql,
  keyBoundsSql,
  nullKeySamplesSql,
  rangeAggregateSql,
  restrictionParams,
  settlingCountSql,
  windowMaxSql,
  type Bucketing,
  type Restriction,
  type RowFilter,
  type Side,
} from './sql';

/**
 * The comparison engine. Both sides are read in one snapshot: a REPEATABLE READ, READ ONLY transaction on
 * the first connection, and (with a second connection, so both sides are read at once) the same snapshot
 * imported with SET TRANSACTION SNAPSHOT. Steps:
 *
 * 1. the catalog: both relations, their columns, privileges and unique indexes (catalog.ts);
 * 2. with a window: its bounds, the rows of a side that trails by less than `settleMinutes` left to settle;
 * 3. one aggregate per side, concurrently: count and sum of 64-bit row hashes per bucket of the key, at most
 *    `buckets` + 1 rows back (key ranges of a single integer key, hash buckets of the key text otherwise);
 *    with `bisect`, 32 ranges per level and only the differing ones split again;
 * 4. buckets whose count or sum differ are joined row by row in one statement that returns counts per kind,
 *    per column, and the samples (never the rows themselves);
 * 5. without a unique index proving the key unique, a duplicate-key scan per side.
 *
 * Equal hash sums are taken as equal buckets: two different multisets of rows with the same 64-bit sum is
 * a chance of about 2^-64 per bucket. Memory in this process is bounded by the bucket count and the
 * samples, never by the table's size. Never throws: a failure is a result with status `error`.
 */

export interface CompareOptions {
  /** One connection reads both sides; a second one (same server) lets them be read concurrently. */
  readonly clients: readonly [Client] | readonly [Client, Client];
  readonly spec: ParitySpec;
  readonly clock?: () => Date;
  /** Progress lines for long runs (the CLI prints them on stderr). */
  readonly onProgress?: (message: string) => void;
}

const BISECT_FACTOR = 32;
/** A differing range this small (rows on the larger side) is joined instead of split again. */
const BISECT_LEAF_ROWS = 2048;
/** Above this share of differing buckets, the join diff reads everything (a filter would not save reads). */
const FULL_JOIN_SHARE = 0.25;

interface BucketStat {
  readonly n: bigint;
  readonly s: string;
}

class Timer {
  ms = 0;
  async query<R extends QueryResultRow>(c: Client, sql: string, params: unknown[] = []): Promise<R[]> {
    const t0 = process.hrtime.bigint();
    try {
      return (await c.query<R>(sql, params)).rows;
    } finally {
      this.ms += Number(process.hrtime.bigint() - t0) / 1e6;
    }
  }
}

export async function compareRelations(opts: CompareOptions): Promise<ParityResult> {
  const clock = opts.clock ?? (() => new Date());
  const started = clock();
  const spec = opts.spec;
  const timer = new Timer();
  const [first, second] = opts.clients;
  const began: Client[] = [];
  try {
    await beginSnapshot(first, second, began);
    const plan = await planComparison(first, spec);
    const client = (side: Side) => (side === 'green' && second ? second : first);
    const both = async <T>(fn: (side: Side) => Promise<T>): Promise<[T, T]> =>
      second ? Promise.all([fn('blue'), fn('green')]) : [await fn('blue'), await fn('green')];
    const progress = opts.onProgress ?? (() => undefined);

    // 2. The window.
    let filter: RowFilter = {};
    let windowParams: string[] = [];
    let window: ParityWindowReport | undefined;
    if (spec.window) {
      const w = spec.window;
      const [bounds] = await timer.query<{ lower: string; now: string }>(
        first,
        `SELECT (now() - make_interval(hours => $1::int))::text AS lower, now()::text AS now`,
        [w.hours],
      );
      const lower = bounds!.lower;
      const [maxB, maxG] = await both(async (side) => {
        const [row] = await timer.query<{ newest: string | null }>(
          client(side),
          windowMaxSql(plan, side, w.column),
          [lower],
        );
        return row?.newest ?? null;
      });
      // A side that trails by less than settleMinutes: its missing newest rows are left for the next run.
      const [lag] = await timer.query<{ trailing: string | null; within: boolean | null }>(
        first,
        `SELECT least($1::timestamptz, $2::timestamptz)::text AS trailing,
                greatest($1::timestamptz, $2::timestamptz) - least($1::timestamptz, $2::timestamptz) <= make_interval(mins => $3::int) AS within`,
        [maxB, maxG, w.settleMinutes ?? DEFAULT_SETTLE_MINUTES],
      );
      const upper = maxB !== null && maxG !== null && lag?.within ? lag.trailing! : bounds!.now;
      const [settleB, settleG] = await both(async (side) => {
        const [row] = await timer.query<{ n: string }>(client(side), settlingCountSql(plan, side, w.column), [
          lower,
          upper,
        ]);
        return Number(row?.n ?? 0);
      });
      const [share] = await timer.query<{ share: number }>(
        first,
        `SELECT CASE WHEN $3::timestamptz <= $1::timestamptz THEN 1
                     ELSE least(1, extract(epoch FROM ($2::timestamptz - $1::timestamptz)) / extract(epoch FROM ($3::timestamptz - $1::timestamptz))) END::float8 AS share`,
        [lower, upper, bounds!.now],
      );
      filter = { windowColumn: w.column };
      windowParams = [lower, upper];
      window = {
        column: w.column,
        hours: w.hours,
        from: toIso(lower),
        to: toIso(upper),
        settling: { blue: settleB, green: settleG },
        share: settleB + settleG === 0 ? 1 : Math.max(0, Math.min(1, share!.share)),
      };
    }

    // 3. Bucket aggregates.
    // Bisection reads ranges through the key's index; without one on both sides it would rescan the table.
    const indexed = plan.blue.keyIndexed && plan.green.keyIndexed;
    const algorithm =
      spec.algorithm === 'bisect' && plan.integerKey && !indexed ? 'bucket' : (spec.algorithm ?? 'bucket');
    if (algorithm === 'bisect' && !plan.integerKey) {
      throw new CheckFailedError(
        'missing-object',
        'algorithm bisect needs a single integer key column on both sides',
      );
    }
    let bounds: { min: bigint; max: bigint } | undefined;
    if (plan.integerKey) {
      const [bb, gb] = await both(async (side) => {
        const [row] = await timer.query<{ lo: string | null; hi: string | null }>(
          client(side),
          keyBoundsSql(plan, side, filter),
          windowParams,
        );
        return row;
      });
      const los = [bb?.lo, gb?.lo].filter((x): x is string => x != null).map(BigInt);
      const his = [bb?.hi, gb?.hi].filter((x): x is string => x != null).map(BigInt);
      if (los.length > 0) bounds = { min: bigMin(los), max: bigMax(his) };
    }
    const target = powerOfTwo(spec.buckets ?? DEFAULT_BUCKETS);
    let bucketing: Bucketing;
    if (plan.integerKey && bounds) {
      const span = bounds.max - bounds.min + 1n;
      const n = BigInt(algorithm === 'bisect' ? BISECT_FACTOR : target);
      bucketing = { kind: 'range', min: bounds.min, width: span / n + (span % n === 0n ? 0n : 1n) };
    } else {
      bucketing = { kind: 'hash', mask: target - 1 };
    }
    progress(
      `aggregating ${relationKey(spec.blue)} and ${relationKey(spec.green)} (${bucketing.kind} buckets)`,
    );
    const [aggB, aggG] = await both(async (side) =>
      toStats(
        await timer.query<{ bucket: string | null; n: string; s: string }>(
          client(side),
          bucketAggregateSql(plan, side, bucketing, filter),
          windowParams,
        ),
      ),
    );
    const nullKeys: PerSide = {
      blue: Number(aggB.get(null)?.n ?? 0n),
      green: Number(aggG.get(null)?.n ?? 0n),
    };
    const rows: PerSide = { blue: Number(sumN(aggB)), green: Number(sumN(aggG)) };
    const bucketsCompared = new Set([...aggB.keys(), ...aggG.keys()].filter((k) => k !== null)).size;
    let differing = differingBuckets(aggB, aggG);
    progress(`${differing.length} of ${bucketsCompared} buckets differ`);

    // With bisect, split differing ranges until they are small.
    let restriction: Restriction;
    let joinedBlueRows = 0n;
    if (bucketing.kind === 'range') {
      let ranges = differing.map((b) => {
        const lo = bucketing.min + BigInt(b) * bucketing.width;
        return {
          lo,
          hi: lo + bucketing.width,
          n: maxN(aggB.get(String(b)), aggG.get(String(b))),
          nBlue: aggB.get(String(b))?.n ?? 0n,
        };
      });
      if (algorithm === 'bisect') {
        const leaves: typeof ranges = [];
        let level = 1;
        while (ranges.length > 0) {
          const split: { lo: bigint; hi: bigint }[] = [];
          for (const r of ranges) {
            if (r.n <= BigInt(BISECT_LEAF_ROWS) || r.hi - r.lo <= 1n) leaves.push(r);
            else split.push(...splitRange(r.lo, r.hi, BISECT_FACTOR));
          }
          if (split.length === 0) break;
          const params = [
            ...windowParams,
            split.map((r) => r.lo.toString()),
            split.map((r) => r.hi.toString()),
          ];
          const [sb, sg] = await both(async (side) =>
            toStats(
              await timer.query<{ bucket: string; n: string; s: string }>(
                client(side),
                rangeAggregateSql(plan, side, filter),
                params,
              ),
            ),
          );
          // ORDINALITY is 1-based.
          const next = differingBuckets(sb, sg).map((i) => {
            const r = split[i - 1]!;
            return { ...r, n: maxN(sb.get(String(i)), sg.get(String(i))), nBlue: sb.get(String(i))?.n ?? 0n };
          });
          level++;
          progress(`bisect level ${level}: ${next.length} of ${split.length} ranges differ`);
          ranges = next;
        }
        ranges = leaves;
        differing = leaves.map((_, i) => i);
      }
      joinedBlueRows = ranges.reduce((a, r) => a + r.nBlue, 0n);
      if (algorithm !== 'bisect' && differing.length > bucketsCompared * FULL_JOIN_SHARE) {
        restriction = { kind: 'all' };
      } else if (indexed) {
        restriction = { kind: 'ranges', lo: ranges.map((r) => r.lo), hi: ranges.map((r) => r.hi) };
      } else {
        // No index to read ranges through: one scan per side, filtered on the bucket.
        restriction = {
          kind: 'rangeBuckets',
          min: bucketing.min,
          width: bucketing.width,
          buckets: differing,
        };
      }
    } else {
      joinedBlueRows = differing.reduce((a, b) => a + (aggB.get(String(b))?.n ?? 0n), 0n);
      restriction =
        differing.length > bucketsCompared * FULL_JOIN_SHARE
          ? { kind: 'all' }
          : { kind: 'buckets', mask: bucketing.mask, buckets: differing };
    }

    // 4. The join diff of what differs.
    const limit = spec.sampleLimit ?? DEFAULT_SAMPLE_LIMIT;
    const kinds = new Map<string, number>();
    const changedByColumn: Record<string, number> = {};
    const samples: ParitySample[] = [];
    if (differing.length > 0) {
      progress(`joining the rows of ${differing.length} differing bucket(s)`);
      const out = await timer.query<{
        what: string;
        name: string;
        n: string | null;
        sample: SampleJson | null;
      }>(first, joinDiffSql(plan, filter, restriction), [
        ...windowParams,
        ...restrictionParams(restriction),
        limit,
      ]);
      for (const r of out) {
        if (r.what === 'kind') kinds.set(r.name, Number(r.n));
        else if (r.what === 'column') changedByColumn[plan.values[Number(r.name) - 1]!] = Number(r.n);
        else if (r.sample) samples.push(sampleOf(plan, r.name as DifferenceKind, r.sample));
      }
    }
    if (restriction.kind === 'all') joinedBlueRows = BigInt(rows.blue - nullKeys.blue);

    // 5. Duplicate keys (unless an index proves there are none) and rows with NULL keys.
    const duplicateKeys = { blue: 0, green: 0 };
    await both(async (side) => {
      const info = side === 'blue' ? plan.blue : plan.green;
      if (!info.keyUniqueByIndex) {
        const [row] = await timer.query<{
          keys: string;
          samples: { k: (string | null)[]; n: string }[] | null;
        }>(client(side), duplicateScanSql(plan, side, filter), [...windowParams, limit]);
        duplicateKeys[side] = Number(row?.keys ?? 0);
        for (const d of row?.samples ?? []) {
          samples.push({ kind: 'duplicateKey', side, key: keyRecord(plan, d.k), count: Number(d.n) });
        }
      }
      if (nullKeys[side] > 0) {
        const nulls = await timer.query<{ k: (string | null)[]; v: (string | null)[] }>(
          client(side),
          nullKeySamplesSql(plan, side, filter),
          [...windowParams, limit],
        );
        for (const n of nulls) {
          samples.push({ kind: 'nullKey', side, key: keyRecord(plan, n.k), values: valueRecord(plan, n.v) });
        }
      }
    });

    const onlyInBlue = kinds.get('onlyInBlue') ?? 0;
    const onlyInGreen = kinds.get('onlyInGreen') ?? 0;
    const changed = kinds.get('changed') ?? 0;
    const identical = rows.blue - nullKeys.blue - Number(joinedBlueRows) + (kinds.get('identical') ?? 0);
    const counts = { onlyInBlue, onlyInGreen, changed, duplicateKeys, nullKeys };
    const differences = differencesOf(counts);
    const finished = clock();
    return {
      status: differences === 0 ? 'identical' : 'different',
      blue: relationKey(spec.blue),
      green: relationKey(spec.green),
      key: plan.key,
      columns: [...plan.key, ...plan.values],
      excluded: plan.excluded,
      rows,
      identical: Math.max(0, identical),
      ...counts,
      changedByColumn,
      differences,
      comparedShare: window ? window.share : 1,
      ...(window ? { window } : {}),
      samples,
      algorithm:
        algorithm === 'bisect' ? 'bisect' : bucketing.kind === 'range' ? 'bucket-range' : 'bucket-hash',
      bucketsCompared,
      bucketsDiffering: differing.length,
      keyUniqueByIndex: { blue: plan.blue.keyUniqueByIndex, green: plan.green.keyUniqueByIndex },
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      databaseMs: timer.ms,
    };
  } catch (err) {
    const failure = asCheckFailed(
      err,
      `cannot compare ${relationKey(spec.blue)} with ${relationKey(spec.green)}`,
    );
    return failedResult({
      blue: relationKey(spec.blue),
      green: relationKey(spec.green),
      key: spec.key,
      started,
      finished: clock(),
      databaseMs: timer.ms,
      failure: { kind: failure.kind, message: failure.message },
    });
  } finally {
    // Read only: nothing to commit.
    await Promise.all(began.map((c) => c.query('ROLLBACK').catch(() => undefined)));
  }
}

/** One snapshot for both connections: exported from the first, imported by the second. */
async function beginSnapshot(first: Client, second: Client | undefined, began: Client[]): Promise<void> {
  await first.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  began.push(first);
  for (const s of CANONICAL_SETTINGS) await first.query(s);
  if (!second) return;
  const [row] = (await first.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows;
  await second.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  began.push(second);
  // The snapshot id is PostgreSQL's own output (hex and dashes); quoted as a literal all the same.
  const id = row!.id;
  if (!/^[0-9A-F-]+$/i.test(id)) throw new Error(`unexpected snapshot id ${JSON.stringify(id)}`);
  await second.query(`SET TRANSACTION SNAPSHOT '${id}'`);
  for (const s of CANONICAL_SETTINGS) await second.query(s);
}

interface SampleJson {
  readonly k: (string | null)[];
  readonly diff: boolean[];
  readonly b: (string | null)[];
  readonly g: (string | null)[];
}

function keyRecord(plan: ComparePlan, k: readonly (string | null)[]): Record<string, string | null> {
  return Object.fromEntries(plan.key.map((name, i) => [name, k[i] ?? null]));
}

function valueRecord(plan: ComparePlan, v: readonly (string | null)[]): Record<string, string | null> {
  return Object.fromEntries(plan.values.map((name, i) => [name, v[i] ?? null]));
}

function sampleOf(plan: ComparePlan, kind: DifferenceKind, s: SampleJson): ParitySample {
  const key = keyRecord(plan, s.k);
  if (kind === 'changed') {
    const columns = plan.values
      .map((column, i) => ({ column, blue: s.b[i] ?? null, green: s.g[i] ?? null, differs: s.diff[i] }))
      .filter((c) => c.differs)
      .map(({ column, blue, green }) => ({ column, blue, green }));
    return { kind, key, columns };
  }
  return { kind, key, values: valueRecord(plan, kind === 'onlyInBlue' ? s.b : s.g) };
}

function toStats(
  rows: { bucket: string | null; n: string; s: string | null }[],
): Map<string | null, BucketStat> {
  return new Map(rows.map((r) => [r.bucket, { n: BigInt(r.n), s: r.s ?? '0' }]));
}

/** Buckets (non-NULL) whose count or hash sum differ between the sides, as numbers, sorted. */
function differingBuckets(a: Map<string | null, BucketStat>, b: Map<string | null, BucketStat>): number[] {
  const out: number[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (k === null) continue;
    const x = a.get(k);
    const y = b.get(k);
    if (!x || !y || x.n !== y.n || x.s !== y.s) out.push(Number(k));
  }
  return out.sort((p, q) => p - q);
}

function sumN(m: Map<string | null, BucketStat>): bigint {
  let total = 0n;
  for (const v of m.values()) total += v.n;
  return total;
}

function maxN(a: BucketStat | undefined, b: BucketStat | undefined): bigint {
  const x = a?.n ?? 0n;
  const y = b?.n ?? 0n;
  return x > y ? x : y;
}

function splitRange(lo: bigint, hi: bigint, parts: number): { lo: bigint; hi: bigint }[] {
  const span = hi - lo;
  const n = BigInt(parts);
  const width = span / n + (span % n === 0n ? 0n : 1n);
  const out: { lo: bigint; hi: bigint }[] = [];
  for (let a = lo; a < hi; a += width) out.push({ lo: a, hi: a + width < hi ? a + width : hi });
  return out;
}

const bigMin = (xs: bigint[]) => xs.reduce((a, b) => (b < a ? b : a));
const bigMax = (xs: bigint[]) => xs.reduce((a, b) => (b > a ? b : a));

function powerOfTwo(n: number): number {
  const clamped = Math.max(16, Math.min(1 << 20, Math.floor(n)));
  return 2 ** Math.round(Math.log2(clamped));
}

/** PostgreSQL timestamptz text (UTC session) to ISO 8601, microseconds kept. */
function toIso(pgText: string): string {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)\+00$/.exec(pgText);
  return m ? `${m[1]}T${m[2]}Z` : pgText;
}
