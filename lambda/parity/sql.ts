import { qualifiedName, quoteIdent } from '../data-checks/sql';
import {
  canonicalExpr,
  commonHashType,
  hashRecord,
  hashValueExpr,
  toleranceHashExpr,
  withinToleranceSql,
} from './canonical';
import { columnOf, type ComparePlan, type RelationInfo } from './catalog';

/**
 * The SQL of a comparison, built from a checked plan. Every identifier is quoted (quoteIdent); every value
 * (window bounds, bucket lists, ranges, limits) is a bind parameter. Pure: tested without a server.
 */

export type Side = 'blue' | 'green';

/** Which rows of a side take part: the window's bounds as parameters `$1` and `$2` when there is one. */
export interface RowFilter {
  readonly windowColumn?: string;
}

const T = 't';

function relationOf(plan: ComparePlan, side: Side): RelationInfo {
  return side === 'blue' ? plan.blue : plan.green;
}

export function fromClause(plan: ComparePlan, side: Side): string {
  const r = relationOf(plan, side).ref;
  return `${qualifiedName(r.schemaName, r.table)} ${T}`;
}

/** Canonical key parts of a side, in key order. */
export function keyExprs(plan: ComparePlan, side: Side): string[] {
  const r = relationOf(plan, side);
  return plan.key.map((k) => canonicalExpr(T, columnOf(r, k)));
}

/** Canonical value columns (display and exact comparison). */
export function valueExprs(plan: ComparePlan, side: Side): string[] {
  const r = relationOf(plan, side);
  return plan.values.map((v) => canonicalExpr(T, columnOf(r, v)));
}

/** A column as hashed on `side`: cast to the type it shares with its peer on the other side. */
function hashPart(plan: ComparePlan, side: Side, name: string): string {
  const mine = columnOf(relationOf(plan, side), name);
  const peer = columnOf(relationOf(plan, side === 'blue' ? 'green' : 'blue'), name);
  const tol = plan.tolerance[name];
  if (tol !== undefined) return toleranceHashExpr(T, mine, tol);
  return hashValueExpr(T, mine, commonHashType(mine, peer));
}

/** The key's hash (seed 1), for hash buckets. */
function keyHashExpr(plan: ComparePlan, side: Side): string {
  return hashRecord(
    plan.key.map((k) => hashPart(plan, side, k)),
    1,
  );
}

/** What is hashed: the key, then every value (tolerance columns rounded to their tolerance). */
export function rowHashExpr(plan: ComparePlan, side: Side): string {
  return hashRecord(
    [...plan.key, ...plan.values].map((c) => hashPart(plan, side, c)),
    0,
  );
}

export function keyNullSql(plan: ComparePlan): string {
  return `(${plan.key.map((k) => `${T}.${quoteIdent(k)} IS NULL`).join(' OR ')})`;
}

/** WHERE conditions common to every read of a side; `$1`/`$2` are the window bounds (timestamptz text). */
export function windowSql(filter: RowFilter): string[] {
  if (!filter.windowColumn) return [];
  const c = `${T}.${quoteIdent(filter.windowColumn)}`;
  return [`${c} >= $1::timestamptz`, `${c} <= $2::timestamptz`];
}

/** Parameter numbers after the window's. */
export function firstFreeParam(filter: RowFilter): number {
  return filter.windowColumn ? 3 : 1;
}

export type Bucketing =
  | { readonly kind: 'range'; readonly min: bigint; readonly width: bigint }
  | { readonly kind: 'hash'; readonly mask: number };

/** The range bucket of a row of a single integer key: (key - min) / width. */
export function rangeBucketExpr(
  plan: ComparePlan,
  b: { readonly min: bigint; readonly width: bigint },
): string {
  const k = `${T}.${quoteIdent(plan.key[0]!)}`;
  return `((${k}::int8 - ${b.min.toString()}::int8) / ${b.width.toString()}::int8)`;
}

function hashBucketOfSide(plan: ComparePlan, side: Side, mask: number): string {
  return `(${keyHashExpr(plan, side)} & ${mask})`;
}

function bucketOfSide(plan: ComparePlan, side: Side, b: Bucketing): string {
  return b.kind === 'range' ? rangeBucketExpr(plan, b) : hashBucketOfSide(plan, side, b.mask);
}

/**
 * Count and sum of row hashes per bucket of one side; rows with a NULL key land in bucket NULL (counted,
 * never matched). At most (buckets + 1) rows come back, whatever the table's size.
 */
export function bucketAggregateSql(plan: ComparePlan, side: Side, b: Bucketing, filter: RowFilter): string {
  const where = windowSql(filter);
  return `SELECT bucket, count(*)::int8 AS n, sum(h)::text AS s FROM (
  SELECT CASE WHEN ${keyNullSql(plan)} THEN NULL ELSE ${bucketOfSide(plan, side, b)} END AS bucket,
         ${rowHashExpr(plan, side)} AS h
    FROM ${fromClause(plan, side)}${where.length > 0 ? `\n   WHERE ${where.join(' AND ')}` : ''}
) x GROUP BY bucket`;
}

/**
 * Count and sum of row hashes per key range `[lo, hi)` (bisection), ranges given as two int8 arrays. With an
 * index on the key, each range is an index range scan.
 */
export function rangeAggregateSql(plan: ComparePlan, side: Side, filter: RowFilter): string {
  const p = firstFreeParam(filter);
  const k = `${T}.${quoteIdent(plan.key[0]!)}`;
  const where = [...windowSql(filter)];
  return `SELECT r.i::int8 AS bucket, count(*)::int8 AS n, sum(${rowHashExpr(plan, side)})::text AS s
  FROM unnest($${p}::int8[], $${p + 1}::int8[]) WITH ORDINALITY AS r(lo, hi, i)
  JOIN ${fromClause(plan, side)} ON ${k} >= r.lo AND ${k} < r.hi${where.length > 0 ? `\n WHERE ${where.join(' AND ')}` : ''}
 GROUP BY r.i`;
}

/** min and max of a single integer key (read from its index). */
export function keyBoundsSql(plan: ComparePlan, side: Side, filter: RowFilter): string {
  const k = `${T}.${quoteIdent(plan.key[0]!)}`;
  const where = windowSql(filter);
  return `SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${fromClause(plan, side)}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

/** Which rows the join diff reads: key ranges `[lo, hi)`, hash buckets, or all. */
export type Restriction =
  | { readonly kind: 'ranges'; readonly lo: readonly bigint[]; readonly hi: readonly bigint[] }
  | { readonly kind: 'buckets'; readonly mask: number; readonly buckets: readonly number[] }
  | {
      readonly kind: 'rangeBuckets';
      readonly min: bigint;
      readonly width: bigint;
      readonly buckets: readonly number[];
    }
  | { readonly kind: 'all' };

function restrictedSide(plan: ComparePlan, side: Side, filter: RowFilter, r: Restriction): string {
  const p = firstFreeParam(filter);
  const keys = keyExprs(plan, side);
  const values = valueExprs(plan, side);
  const select = [
    ...keys.map((e, i) => `${e} AS k${i}`),
    ...values.map((e, i) => `${e} AS v${i}`),
    `count(*) OVER (PARTITION BY ${keys.join(', ')}) AS n`,
  ].join(', ');
  const where = [...windowSql(filter), `NOT ${keyNullSql(plan)}`];
  let from = fromClause(plan, side);
  if (r.kind === 'ranges') {
    const k = `${T}.${quoteIdent(plan.key[0]!)}`;
    from = `unnest($${p}::int8[], $${p + 1}::int8[]) AS r(lo, hi) JOIN ${from} ON ${k} >= r.lo AND ${k} < r.hi`;
  } else if (r.kind === 'buckets') {
    where.push(`${hashBucketOfSide(plan, side, r.mask)} = ANY($${p}::int8[])`);
  } else if (r.kind === 'rangeBuckets') {
    where.push(`${rangeBucketExpr(plan, r)} = ANY($${p}::int8[])`);
  }
  return `SELECT ${select} FROM ${from} WHERE ${where.join(' AND ')}`;
}

/** Parameters of the join diff after the window's. */
export function restrictionParams(r: Restriction): unknown[] {
  if (r.kind === 'ranges') return [r.lo.map(String), r.hi.map(String)];
  if (r.kind === 'buckets' || r.kind === 'rangeBuckets') return [r.buckets.map(String)];
  return [];
}

/**
 * The join diff of the restricted rows, in one statement over the shared snapshot: rows per kind, changed
 * rows per column, and up to `$limit` samples per kind (the last parameter). Keys that repeat on a side
 * are kind `dup` (counted by the duplicate scan, not here). Returns a bounded number of rows.
 */
export function joinDiffSql(plan: ComparePlan, filter: RowFilter, r: Restriction): string {
  const nk = plan.key.length;
  const nv = plan.values.length;
  const limitParam = firstFreeParam(filter) + restrictionParams(r).length;
  const on = Array.from({ length: nk }, (_, i) => `b.k${i} = g.k${i}`).join(' AND ');
  const diffs = plan.values.map((v, i) => {
    const tol = plan.tolerance[v];
    return tol === undefined
      ? `(b.v${i} IS DISTINCT FROM g.v${i})`
      : `(NOT ${withinToleranceSql(`b.v${i}`, `g.v${i}`, tol)})`;
  });
  const diffArray = nv > 0 ? `ARRAY[${diffs.join(', ')}]::bool[]` : `'{}'::bool[]`;
  const arr = (alias: string) =>
    nv > 0
      ? `ARRAY[${Array.from({ length: nv }, (_, i) => `${alias}.v${i}`).join(', ')}]::text[]`
      : `'{}'::text[]`;
  const keyOut = Array.from({ length: nk }, (_, i) => `coalesce(b.k${i}, g.k${i}) AS k${i}`).join(', ');
  const keyArr = `ARRAY[${Array.from({ length: nk }, (_, i) => `k${i}`).join(', ')}]::text[]`;
  const anyDiff = nv > 0 ? diffs.join(' OR ') : 'false';
  return `WITH b AS (${restrictedSide(plan, 'blue', filter, r)}),
g AS (${restrictedSide(plan, 'green', filter, r)}),
d AS MATERIALIZED (
  SELECT CASE WHEN coalesce(b.n, 1) > 1 OR coalesce(g.n, 1) > 1 THEN 'dup'
              WHEN g.n IS NULL THEN 'onlyInBlue'
              WHEN b.n IS NULL THEN 'onlyInGreen'
              WHEN ${anyDiff} THEN 'changed'
              ELSE 'identical' END AS kind,
         ${keyOut}, ${diffArray} AS diff, ${arr('b')} AS bv, ${arr('g')} AS gv
    FROM b FULL JOIN g ON ${on}
)
SELECT 'kind' AS what, kind AS name, count(*)::int8 AS n, NULL::json AS sample FROM d WHERE kind <> 'dup' GROUP BY kind
UNION ALL
SELECT 'column', u.i::text, count(*)::int8, NULL
  FROM d CROSS JOIN LATERAL unnest(d.diff) WITH ORDINALITY AS u(x, i)
 WHERE d.kind = 'changed' AND u.x GROUP BY u.i
UNION ALL
SELECT 'sample', kind, NULL, json_build_object('k', ${keyArr}, 'diff', diff, 'b', bv, 'g', gv)
  FROM (SELECT d.*, row_number() OVER (PARTITION BY kind ORDER BY ${Array.from({ length: nk }, (_, i) => `k${i}`).join(', ')}) AS rn
          FROM d WHERE kind IN ('onlyInBlue', 'onlyInGreen', 'changed')) s
 WHERE rn <= $${limitParam}`;
}

/**
 * Keys that repeat on one side: how many, and up to `$limit` of them with their row counts. Only run when
 * no unique index proves the key unique. Also returns the rows with a NULL key (up to `$limit` of them).
 */
export function duplicateScanSql(plan: ComparePlan, side: Side, filter: RowFilter): string {
  const limit = firstFreeParam(filter);
  const keys = keyExprs(plan, side);
  const where = [...windowSql(filter), `NOT ${keyNullSql(plan)}`];
  return `WITH dup AS MATERIALIZED (
  SELECT ARRAY[${keys.join(', ')}]::text[] AS k, count(*)::int8 AS n
    FROM ${fromClause(plan, side)} WHERE ${where.join(' AND ')}
   GROUP BY ${keys.join(', ')} HAVING count(*) > 1
)
SELECT (SELECT count(*) FROM dup)::int8 AS keys,
       (SELECT json_agg(x) FROM (SELECT k, n FROM dup ORDER BY k LIMIT $${limit}) x) AS samples`;
}

/** Up to `$limit` rows of a side whose key has a NULL (canonical values), to show in the samples. */
export function nullKeySamplesSql(plan: ComparePlan, side: Side, filter: RowFilter): string {
  const limit = firstFreeParam(filter);
  const where = [...windowSql(filter), keyNullSql(plan)];
  return `SELECT ARRAY[${keyExprs(plan, side).join(', ')}]::text[] AS k, ARRAY[${valueExprs(plan, side).join(', ') || 'NULL'}]::text[] AS v
  FROM ${fromClause(plan, side)} WHERE ${where.join(' AND ')} LIMIT $${limit}`;
}

/** Newest window-column value of a side at or after the window's start (`$1`). */
export function windowMaxSql(plan: ComparePlan, side: Side, column: string): string {
  const c = `${T}.${quoteIdent(column)}`;
  return `SELECT max(${c})::timestamptz::text AS newest FROM ${fromClause(plan, side)} WHERE ${c} >= $1::timestamptz`;
}

/** Rows of a side newer than the compared window (`$1` start, `$2` end): left to settle. */
export function settlingCountSql(plan: ComparePlan, side: Side, column: string): string {
  const c = `${T}.${quoteIdent(column)}`;
  return `SELECT count(*)::int8 AS n FROM ${fromClause(plan, side)} WHERE ${c} >= $1::timestamptz AND ${c} > $2::timestamptz`;
}
