import { createHash } from 'node:crypto';
import type { QueryResultRow } from 'pg';
import { acceptHint, type RuleResult } from './results';
import type { ColumnFingerprint, SchemaFingerprint } from './state';

/**
 * The schema fingerprint of a table: its columns in attribute order (number, name, type, nullability), the
 * attribute numbers of dropped columns, and the primary key. A column dropped and re-added with the same name
 * and type is a change (new attribute number, its data is gone); a rename keeps the number and is reported
 * as a rename. Shared with the restore drill, which compares a restored table with its source.
 */
export type Query = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<{ rows: R[] }>;

/** Every attribute (dropped ones too), with its position in the primary key: one catalog read. */
const COLUMNS_SQL = `
SELECT a.attrelid::bigint AS oid, a.attnum::int AS attnum, a.attname AS name, a.attisdropped AS dropped,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       array_position(i.indkey::int2[], a.attnum) AS pk_position
  FROM pg_attribute a
  LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
 WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0
 ORDER BY a.attrelid, a.attnum`;

/** Fingerprints of the tables with these oids, keyed by oid. */
export async function readFingerprints(
  query: Query,
  oids: readonly (string | number | null)[],
): Promise<Map<number, SchemaFingerprint>> {
  const out = new Map<number, SchemaFingerprint>();
  const wanted = oids.filter((o) => o !== null);
  if (wanted.length === 0) return out;
  const cols = await query<{
    oid: string;
    attnum: number;
    name: string;
    dropped: boolean;
    type: string;
    not_null: boolean;
    pk_position: number | null;
  }>(COLUMNS_SQL, [wanted]);
  const byOid = new Map<
    number,
    { columns: ColumnFingerprint[]; dropped: number[]; pk: [string, number][] }
  >();
  for (const c of cols.rows) {
    const oid = Number(c.oid);
    const t = byOid.get(oid) ?? { columns: [], dropped: [], pk: [] };
    byOid.set(oid, t);
    if (c.dropped) {
      t.dropped.push(c.attnum);
      continue;
    }
    t.columns.push({ attnum: c.attnum, name: c.name, type: c.type, notNull: c.not_null });
    if (c.pk_position !== null) t.pk.push([c.name, c.pk_position]);
  }
  for (const [oid, t] of byOid) out.set(oid, fingerprintOf(t.columns, t.dropped, t.pk));
  return out;
}

export function fingerprintOf(
  columns: readonly ColumnFingerprint[],
  dropped: readonly number[],
  pk: readonly [string, number][],
): SchemaFingerprint {
  const primaryKey = [...pk].sort((x, y) => x[1] - y[1]).map(([name]) => name);
  const hash = createHash('sha256')
    .update(JSON.stringify({ columns, dropped, primaryKey }))
    .digest('hex')
    .slice(0, 16);
  return { v: 2, hash, columns: [...columns], dropped: [...dropped], primaryKey };
}

/** The changes from `before` to `after`, for people; empty when the fingerprints are equal. */
export function schemaChanges(before: SchemaFingerprint, after: SchemaFingerprint): string[] {
  if (before.hash === after.hash) return [];
  const changes: string[] = [];
  const byNum = new Map(after.columns.map((c) => [c.attnum, c]));
  const seen = new Set<number>();
  for (const c of before.columns) {
    const a = c.attnum === undefined ? undefined : byNum.get(c.attnum);
    if (!a) {
      changes.push(`column ${c.name} dropped`);
      continue;
    }
    seen.add(a.attnum!);
    if (a.name !== c.name) changes.push(`column ${c.name} renamed to ${a.name}`);
    if (a.type !== c.type) changes.push(`column ${a.name} retyped ${c.type} -> ${a.type}`);
    if (a.notNull !== c.notNull)
      changes.push(`column ${a.name} ${a.notNull ? 'now NOT NULL' : 'now nullable'}`);
  }
  const droppedNames = new Set(before.columns.filter((c) => !byNum.has(c.attnum!)).map((c) => c.name));
  for (const a of after.columns) {
    if (seen.has(a.attnum!)) continue;
    changes.push(
      droppedNames.has(a.name)
        ? `column ${a.name} re-added (attribute ${a.attnum}): its previous values are gone`
        : `column ${a.name} added`,
    );
  }
  if (before.primaryKey.join(',') !== after.primaryKey.join(',')) {
    changes.push(`primary key (${before.primaryKey.join(', ')}) -> (${after.primaryKey.join(', ')})`);
  }
  if (changes.length === 0) changes.push('dropped-column slots changed');
  return changes;
}

/** Compares the table's columns and primary key with the baseline fingerprint. */
export function judgeSchema(
  key: string,
  baseline: SchemaFingerprint | undefined,
  now: SchemaFingerprint,
): { result: RuleResult; changed: boolean; changes: readonly string[] } {
  if (!baseline || baseline.v !== now.v) {
    return {
      result: {
        target: key,
        rule: 'schema',
        status: 'baseline',
        value: now.hash,
        threshold: now.hash,
        detail: `fingerprint taken${baseline ? ' again (older fingerprint format)' : ''}: ${now.columns.length} columns, primary key (${now.primaryKey.join(', ')})`,
      },
      changed: false,
      changes: [],
    };
  }
  const changes = schemaChanges(baseline, now);
  if (changes.length === 0) {
    return {
      result: {
        target: key,
        rule: 'schema',
        status: 'ok',
        value: now.hash,
        threshold: baseline.hash,
        detail: 'columns and primary key unchanged',
      },
      changed: false,
      changes: [],
    };
  }
  return {
    result: {
      target: key,
      rule: 'schema',
      status: 'violation',
      value: now.hash,
      threshold: baseline.hash,
      detail: `${changes.join('; ')} (${acceptHint(key)})`,
    },
    changed: true,
    changes,
  };
}
