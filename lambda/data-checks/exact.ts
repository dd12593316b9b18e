import type { Query } from './schema-fingerprint';
import { qualifiedName, quoteIdent } from './sql';
import type { Segment } from './state';

/**
 * The exact reads. Everything here reads the table itself inside the run's REPEATABLE READ snapshot; the
 * verdict about loss is made from these numbers only (statistics counters only decide when to read).
 * Shared with the restore drill (exactCount, readKeyRanges).
 */

/** Exact `count(*)` of a table. */
export async function exactCount(query: Query, schemaName: string, table: string): Promise<number> {
  const r = await query<{ n: string }>(`SELECT count(*) AS n FROM ${qualifiedName(schemaName, table)}`);
  return Number(r.rows[0]?.n ?? 0);
}

export interface KeyedTable {
  readonly schemaName: string;
  readonly table: string;
  /** Single-column integer primary key. */
  readonly keyColumn: string;
}

const INT8_MIN = '-9223372036854775808';
const INT8_MAX = '9223372036854775807';

/** What one key range holds now: rows, and for a sparse range the sum of hashint8(key) over them. */
export interface RangeRead {
  readonly rows: number;
  /** '0' for a dense range (not computed: its count decides). */
  readonly hash: string;
}

/**
 * Rows and key-hash sum inside each of `segments` (lo <= key <= hi), one index range scan per range in one
 * statement. Rows outside the ranges (new keys in gaps or above the watermark) are not counted, so
 * concurrent inserts cannot hide a delete inside a range.
 */
export async function readKeyRanges(
  query: Query,
  t: KeyedTable,
  segments: readonly Segment[],
): Promise<RangeRead[]> {
  if (segments.length === 0) return [];
  return readBounds(
    query,
    t,
    segments.map((s) => String(s[0])),
    segments.map((s) => String(s[1])),
    segments.map((s) => !dense(s)),
  );
}

/** Exact number of rows with lo <= key <= hi (an index range scan, parallel when large). */
export async function countKeyRange(
  query: Query,
  t: KeyedTable,
  lo: number | undefined,
  hi: number | undefined,
): Promise<number> {
  const k = quoteIdent(t.keyColumn);
  const r = await query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualifiedName(t.schemaName, t.table)} WHERE ${k} >= $1::int8 AND ${k} <= $2::int8`,
    [String(lo ?? INT8_MIN), String(hi ?? INT8_MAX)],
  );
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * What each baseline range holds now, at the least cost: contiguous dense ranges are counted together
 * (every key of the run existed, so an equal count proves all of them) and a run that fell is bisected to
 * the ranges that lost rows (one count per level: the other half is the difference); sparse ranges are read
 * one by one with their hash sums.
 */
export async function readRanges(
  query: Query,
  t: KeyedTable,
  segments: readonly Segment[],
  /** Counts already read for runs of contiguous dense ranges, by `lo:hi` (see countRunsAtOnce). */
  counted?: ReadonlyMap<string, number>,
): Promise<RangeRead[]> {
  const out: RangeRead[] = segments.map((s) => ({ rows: s[2], hash: s[3] }));
  const rowsOf = (i: number, j: number) => segments.slice(i, j + 1).reduce((n, s) => n + s[2], 0);
  const bisect = async (i: number, j: number, known?: number): Promise<void> => {
    const n =
      known ??
      counted?.get(`${segments[i]![0]}:${segments[j]![1]}`) ??
      (await countKeyRange(query, t, segments[i]![0], segments[j]![1]));
    if (n === rowsOf(i, j)) return;
    if (i === j) {
      out[i] = { rows: n, hash: '0' };
      return;
    }
    const m = (i + j) >> 1;
    const left = await countKeyRange(query, t, segments[i]![0], segments[m]![1]);
    await bisect(i, m, left);
    await bisect(m + 1, j, n - left);
  };
  const sparse: number[] = [];
  for (let i = 0; i < segments.length;) {
    if (!dense(segments[i]!)) {
      sparse.push(i++);
      continue;
    }
    let j = i;
    while (j + 1 < segments.length && dense(segments[j + 1]!) && segments[j + 1]![0] === segments[j]![1] + 1)
      j++;
    await bisect(i, j);
    i = j + 1;
  }
  if (sparse.length > 0) {
    const reads = await readKeyRanges(
      query,
      t,
      sparse.map((i) => segments[i]!),
    );
    sparse.forEach((i, k) => (out[i] = reads[k]!));
  }
  return out;
}

/** Runs of contiguous dense ranges, as [lo, hi] of each run (what readRanges counts in one go). */
export function denseRuns(segments: readonly Segment[]): [number, number][] {
  const runs: [number, number][] = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (!dense(s)) continue;
    const last = runs[runs.length - 1];
    const prev = segments[i - 1];
    if (last && prev && dense(prev) && prev[1] + 1 === s[0]) last[1] = s[1];
    else runs.push([s[0], s[1]]);
  }
  return runs;
}

/**
 * Counts of many key intervals of many tables in one statement (one round trip for a whole run's audit
 * slices), keyed by table key, then `lo:hi`.
 */
export async function countRunsAtOnce(
  query: Query,
  wanted: readonly { key: string; table: KeyedTable; lo: number; hi: number }[],
): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  if (wanted.length === 0) return out;
  const parts = wanted.map(
    (w, i) =>
      `SELECT ${i} AS i, count(*) AS n FROM ${qualifiedName(w.table.schemaName, w.table.table)} WHERE ${quoteIdent(w.table.keyColumn)} BETWEEN $${2 * i + 1}::int8 AND $${2 * i + 2}::int8`,
  );
  const r = await query<{ i: number; n: string }>(
    parts.join('\nUNION ALL\n'),
    wanted.flatMap((w) => [String(w.lo), String(w.hi)]),
  );
  for (const row of r.rows) {
    const w = wanted[Number(row.i)]!;
    const m = out.get(w.key) ?? new Map<string, number>();
    m.set(`${w.lo}:${w.hi}`, Number(row.n));
    out.set(w.key, m);
  }
  return out;
}

/** A dense range's count alone proves it (no key-hash sum needed, which halves the cost of reading it). */
const dense = (s: Segment) => s[2] === s[1] - s[0] + 1;

/** Rows per [lo, hi], with the key-hash sum where `hashed` (sparse ranges): index range scans, one statement. */
async function readBounds(
  query: Query,
  t: KeyedTable,
  los: string[],
  his: string[],
  hashed: boolean[],
): Promise<RangeRead[]> {
  const k = quoteIdent(t.keyColumn);
  const r = await query<{ i: string; n: string; h: string }>(
    `SELECT s.i, count(x.${k}) AS n,
            coalesce(sum(hashint8(x.${k}::int8)) FILTER (WHERE s.hashed), 0)::text AS h
       FROM unnest($1::int8[], $2::int8[], $3::bool[]) WITH ORDINALITY AS s(lo, hi, hashed, i)
       LEFT JOIN ${qualifiedName(t.schemaName, t.table)} x ON x.${k} BETWEEN s.lo AND s.hi
      GROUP BY s.i`,
    [los, his, hashed],
  );
  const out: RangeRead[] = los.map(() => ({ rows: 0, hash: '0' }));
  for (const row of r.rows) out[Number(row.i) - 1] = { rows: Number(row.n), hash: row.h };
  return out;
}

/**
 * The keys of a dense range (every key from lo to hi existed at the last look) that are gone now, as runs
 * `[first, last]`, at most `limit` keys: the exact answer to "which rows", by index probes.
 */
export async function missingKeys(
  query: Query,
  t: KeyedTable,
  lo: number,
  hi: number,
  limit = 50,
): Promise<[number, number][]> {
  const k = quoteIdent(t.keyColumn);
  const r = await query<{ missing: string }>(
    `SELECT g::text AS missing FROM generate_series($1::int8, $2::int8) AS g
      WHERE NOT EXISTS (SELECT 1 FROM ${qualifiedName(t.schemaName, t.table)} x WHERE x.${k} = g)
      ORDER BY g LIMIT $3`,
    [String(lo), String(hi), limit],
  );
  const runs: [number, number][] = [];
  for (const { missing } of r.rows) {
    const v = Number(missing);
    const last = runs[runs.length - 1];
    if (last && last[1] + 1 === v) last[1] = v;
    else runs.push([v, v]);
  }
  return runs;
}

/** Thrown when a key is beyond 2^53 (JavaScript numbers): the table is treated as having no usable key. */
export class UnsafeKeyError extends Error {}

const toSafe = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new UnsafeKeyError(`key ${v} is beyond 2^53`);
  return n;
};

/** Below this many rows a region's key ranges are its islands (runs of consecutive keys), split at cells. */
const ISLANDS_MAX_ROWS = 200_000;
const ISLANDS_MAX = 2048;

/**
 * The key ranges of the rows with from <= key <= to: runs of consecutive keys (dense ranges) when the region
 * is small, else one range per cell of `cell` keys (dense when the cell has no gap, else sparse: count and
 * hash sum only). Ascending, disjoint.
 */
export async function buildKeyRanges(
  query: Query,
  t: KeyedTable,
  from: number | undefined,
  to: number | undefined,
  targetRanges = 256,
): Promise<Segment[]> {
  const k = quoteIdent(t.keyColumn);
  const rel = qualifiedName(t.schemaName, t.table);
  // Bounds spelled out (no `$1 IS NULL OR ...`), so the planner uses the primary key's index.
  const where = `WHERE ${k} >= $1::int8 AND ${k} <= $2::int8`;
  const bounds = [String(from ?? INT8_MIN), String(to ?? INT8_MAX)];
  const stats = (
    await query<{ n: string; lo: string | null; hi: string | null }>(
      `SELECT count(*) AS n, min(${k})::text AS lo, max(${k})::text AS hi FROM ${rel} ${where}`,
      bounds,
    )
  ).rows[0];
  const rows = Number(stats?.n ?? 0);
  if (rows === 0 || !stats?.lo || !stats.hi) return [];
  const lo = toSafe(stats.lo);
  const hi = toSafe(stats.hi);
  const cell = Math.max(1024, Math.ceil((hi - lo + 1) / targetRanges));
  const parse = (r: { lo: string; hi: string; n: string; h: string }[]): Segment[] =>
    r.map((x) => [toSafe(x.lo), toSafe(x.hi), Number(x.n), x.h]);
  if (rows <= ISLANDS_MAX_ROWS) {
    const islands = (
      await query<{ lo: string; hi: string; n: string; h: string }>(
        `SELECT min(k)::text AS lo, max(k)::text AS hi, count(*) AS n, sum(hashint8(k))::text AS h
           FROM (SELECT ${k}::int8 AS k, ${k}::int8 - row_number() OVER (ORDER BY ${k}) AS g FROM ${rel} ${where}) s
          GROUP BY g, (k - $3::int8) / $4::int8 ORDER BY 1 LIMIT ${ISLANDS_MAX + 1}`,
        [...bounds, String(lo), String(cell)],
      )
    ).rows;
    if (islands.length <= ISLANDS_MAX) return parse(islands);
  }
  return parse(
    (
      await query<{ lo: string; hi: string; n: string; h: string }>(
        `SELECT min(${k})::text AS lo, max(${k})::text AS hi, count(*) AS n, sum(hashint8(${k}::int8))::text AS h
           FROM ${rel} ${where}
          GROUP BY (${k}::int8 - $3::int8) / $4::int8 ORDER BY 1`,
        [...bounds, String(lo), String(cell)],
      )
    ).rows,
  );
}
