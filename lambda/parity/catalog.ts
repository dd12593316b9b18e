import type { Client } from 'pg';
import { CheckFailedError } from '../data-checks/connection';
import { isIntegerType, isNumericType, type ColumnInfo } from './canonical';
import { relationKey, type ParitySpec, type RelationRef } from './spec';

/**
 * The catalog side of a comparison: both relations exist and may be read, every named column exists on
 * both sides, and what is known about uniqueness of the key (a unique index on key columns, none of them
 * nullable in the index sense, proves no key repeats). Any problem is a CheckFailedError whose kind the CLI
 * turns into exit code 2, never a crash and never a comparison of the wrong thing.
 */

export interface RelationInfo {
  readonly ref: RelationRef;
  readonly oid: number;
  readonly columns: readonly ColumnInfo[];
  /** A valid, non-partial unique index covers a subset of the key columns. */
  readonly keyUniqueByIndex: boolean;
  /** An index leads with the (single) key column: ranges of it are read through the index. */
  readonly keyIndexed: boolean;
  /** pg_class.reltuples (-1 before the first ANALYZE). */
  readonly estimatedRows: number;
}

export interface ComparePlan {
  readonly blue: RelationInfo;
  readonly green: RelationInfo;
  readonly key: readonly string[];
  /** Non-key compared columns, in blue's order. */
  readonly values: readonly string[];
  readonly excluded: readonly string[];
  /** Tolerance per value column (only numeric columns may have one). */
  readonly tolerance: Readonly<Record<string, number>>;
  /** A single integer key on both sides: buckets can be key ranges. */
  readonly integerKey: boolean;
}

const RELATION_SQL = `
SELECT c.oid::bigint AS oid, c.reltuples::float8 AS reltuples,
       has_table_privilege(c.oid, 'SELECT') AS can_select
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`;

const COLUMNS_SQL = `
SELECT a.attname AS name, bt.typname AS type_name, bt.typcategory AS category,
       format_type(a.atttypid, a.atttypmod) AS display_type, a.attnotnull AS not_null,
       has_column_privilege(a.attrelid, a.attnum, 'SELECT') AS can_select
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`;

/** Unique indexes (valid, not partial) and the first column of every valid index. */
const INDEXES_SQL = `
SELECT i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AS is_unique,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts ORDER BY k.ord)::text[] AS columns
  FROM pg_index i
 WHERE i.indrelid = $1 AND i.indisvalid`;

async function relationInfo(client: Client, ref: RelationRef, key: readonly string[]): Promise<RelationInfo> {
  const name = relationKey(ref);
  const rel = await client.query<{ oid: string; reltuples: number; can_select: boolean }>(RELATION_SQL, [
    ref.schemaName,
    ref.table,
  ]);
  const row = rel.rows[0];
  if (!row)
    throw new CheckFailedError('missing-object', `relation ${name} does not exist (or is not visible)`);
  if (!row.can_select) {
    throw new CheckFailedError('permission-denied', `permission denied: no SELECT on ${name}`);
  }
  const oid = Number(row.oid);
  const cols = await client.query<{
    name: string;
    type_name: string;
    category: string;
    display_type: string;
    not_null: boolean;
    can_select: boolean;
  }>(COLUMNS_SQL, [oid]);
  const denied = cols.rows.filter((c) => !c.can_select).map((c) => c.name);
  if (denied.length > 0) {
    throw new CheckFailedError(
      'permission-denied',
      `permission denied: no SELECT on ${name} column(s) ${denied.join(', ')}`,
    );
  }
  const idx = await client.query<{ is_unique: boolean; columns: string[] }>(INDEXES_SQL, [oid]);
  const keySet = new Set(key);
  return {
    ref,
    oid,
    columns: cols.rows.map((c) => ({
      name: c.name,
      typeName: c.type_name,
      category: c.category,
      displayType: c.display_type,
      notNull: c.not_null,
    })),
    keyUniqueByIndex: idx.rows.some(
      (i) => i.is_unique && i.columns.length > 0 && i.columns.every((c) => keySet.has(c)),
    ),
    keyIndexed: key.length === 1 && idx.rows.some((i) => i.columns[0] === key[0]),
    estimatedRows: row.reltuples,
  };
}

/** Reads both relations from the catalog and checks the spec against them. */
export async function planComparison(client: Client, spec: ParitySpec): Promise<ComparePlan> {
  if (spec.key.length === 0) throw new CheckFailedError('missing-object', 'no key column given');
  if (new Set(spec.key).size !== spec.key.length) {
    throw new CheckFailedError('missing-object', `key columns repeat: ${spec.key.join(', ')}`);
  }
  const blue = await relationInfo(client, spec.blue, spec.key);
  const green = await relationInfo(client, spec.green, spec.key);
  const exclude = new Set(spec.exclude ?? []);
  const problems: string[] = [];
  const byName = (r: RelationInfo) => new Map(r.columns.map((c) => [c.name, c]));
  const b = byName(blue);
  const g = byName(green);
  for (const k of spec.key) {
    if (exclude.has(k)) problems.push(`key column ${k} cannot be excluded`);
    if (!b.has(k)) problems.push(`key column ${k} does not exist in ${relationKey(spec.blue)}`);
    if (!g.has(k)) problems.push(`key column ${k} does not exist in ${relationKey(spec.green)}`);
  }
  for (const x of exclude) {
    if (!b.has(x) && !g.has(x)) problems.push(`excluded column ${x} exists on neither side`);
  }
  const keySet = new Set(spec.key);
  const values: string[] = [];
  for (const c of blue.columns) {
    if (keySet.has(c.name) || exclude.has(c.name)) continue;
    if (!g.has(c.name))
      problems.push(
        `column ${c.name} of ${relationKey(spec.blue)} does not exist in ${relationKey(spec.green)} (exclude it, or add it to green)`,
      );
    else values.push(c.name);
  }
  for (const c of green.columns) {
    if (!keySet.has(c.name) && !exclude.has(c.name) && !b.has(c.name)) {
      problems.push(
        `column ${c.name} of ${relationKey(spec.green)} does not exist in ${relationKey(spec.blue)} (exclude it, or add it to blue)`,
      );
    }
  }
  const tolerance: Record<string, number> = {};
  for (const [col, tol] of Object.entries(spec.tolerance ?? {})) {
    const bc = b.get(col);
    const gc = g.get(col);
    if (!bc || !gc) problems.push(`tolerance column ${col} does not exist on both sides`);
    else if (keySet.has(col)) problems.push(`tolerance column ${col} is a key column`);
    else if (exclude.has(col)) problems.push(`tolerance column ${col} is excluded`);
    else if (!isNumericType(bc) || !isNumericType(gc)) {
      problems.push(`tolerance column ${col} is not numeric (${bc.displayType} / ${gc.displayType})`);
    } else if (!Number.isFinite(tol) || tol < 0)
      problems.push(`tolerance of ${col} must be >= 0, got ${tol}`);
    else tolerance[col] = tol;
  }
  if (spec.window) {
    const w = spec.window.column;
    for (const [side, m, ref] of [
      ['blue', b, spec.blue],
      ['green', g, spec.green],
    ] as const) {
      const c = m.get(w);
      if (!c) problems.push(`window column ${w} does not exist in ${relationKey(ref)} (${side})`);
      else if (c.category !== 'D' || !['timestamptz', 'timestamp', 'date'].includes(c.typeName)) {
        problems.push(
          `window column ${w} of ${relationKey(ref)} is ${c.displayType}, expected a timestamp or date`,
        );
      }
    }
  }
  if (problems.length > 0) throw new CheckFailedError('missing-object', problems.join('; '));
  const key0 = spec.key[0]!;
  return {
    blue,
    green,
    key: spec.key,
    values,
    excluded: [...exclude],
    tolerance,
    integerKey: spec.key.length === 1 && isIntegerType(b.get(key0)!) && isIntegerType(g.get(key0)!),
  };
}

export function columnOf(r: RelationInfo, name: string): ColumnInfo {
  const c = r.columns.find((x) => x.name === name);
  if (!c) throw new Error(`column ${name} not in ${relationKey(r.ref)}`);
  return c;
}
