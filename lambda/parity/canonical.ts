import { quoteIdent } from '../data-checks/sql';

/**
 * Canonical text of a value, the same for equal values whatever their declared type, so blue and green
 * compare by value and not by how each pipeline declared its columns:
 * - integers of any width: their digits; numeric and floating point: `trim_scale(x::numeric)` (0.5 equals
 *   0.500, numeric(4,3) equals numeric, 5 equals 5.0);
 * - timestamptz: the UTC wall time as a timestamp (the session runs with TimeZone UTC), timestamp as is,
 *   at PostgreSQL's microsecond precision; dates in ISO (DateStyle ISO);
 * - json as jsonb (key order and white space do not matter); everything else by its text output;
 * - a row (or a composite key) as the text of a ROW(...) of those texts: record output quotes any value
 *   holding a delimiter and writes SQL NULL as nothing and '' as "", so the encoding is unambiguous.
 * Those texts are what samples show and what the row-by-row join compares. For the bucket hashes (the hot
 * path: every row of both sides), each column is instead cast to a common type (hashValueExpr) and the row
 * hashed with hash_record_extended, about twice as fast as hashing the row's text; a pair of columns with no
 * common hash type is hashed by its canonical text.
 * A column with a numeric tolerance is hashed as round(x / tolerance), so equal hashes imply values within
 * the tolerance; rows whose hashes differ are compared exactly (|blue - green| <= tolerance) before any
 * difference is reported.
 */

/** What the catalog says about a column (base type of a domain). */
export interface ColumnInfo {
  readonly name: string;
  /** pg_type.typname of the base type: int4, numeric, timestamptz, ... */
  readonly typeName: string;
  /** pg_type.typcategory: N numeric, D date/time, S string, B boolean, U user, ... */
  readonly category: string;
  /** format_type() for people. */
  readonly displayType: string;
  readonly notNull: boolean;
}

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

export function isIntegerType(c: ColumnInfo): boolean {
  return INTEGER_TYPES.has(c.typeName);
}

/** Numeric category types that compare by value (money excluded: its text has a currency symbol). */
export function isNumericType(c: ColumnInfo): boolean {
  return c.category === 'N' && c.typeName !== 'money' && c.typeName !== 'oid';
}

/** The canonical text expression of a column of relation alias `alias`. */
export function canonicalExpr(alias: string, c: ColumnInfo): string {
  const col = `${alias}.${quoteIdent(c.name)}`;
  if (INTEGER_TYPES.has(c.typeName)) return `${col}::text`;
  if (isNumericType(c)) return `trim_scale(${col}::numeric)::text`;
  switch (c.typeName) {
    case 'timestamptz':
      return `(${col} AT TIME ZONE 'UTC')::text`;
    case 'json':
      return `${col}::jsonb::text`;
    case 'text':
    case 'varchar':
      return col;
    default:
      return `${col}::text`;
  }
}

/** The expression hashed for a column with a tolerance: round(x / tolerance), a numeric. */
export function toleranceHashExpr(alias: string, c: ColumnInfo, tolerance: number): string {
  if (tolerance === 0) return `${alias}.${quoteIdent(c.name)}::numeric`;
  return `round(${alias}.${quoteIdent(c.name)}::numeric / ${numericLiteral(tolerance)})`;
}

/** The exact test that a tolerance column is within tolerance (NULLs equal only to NULLs). */
export function withinToleranceSql(blue: string, green: string, tolerance: number): string {
  return `((${blue} IS NULL AND ${green} IS NULL) OR abs(${blue}::numeric - ${green}::numeric) <= ${numericLiteral(tolerance)})`;
}

/** A finite, non-negative number as an SQL numeric literal (never from untrusted text). */
export function numericLiteral(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new Error(`tolerance must be a finite number >= 0, got ${n}`);
  return `${n.toString().includes('e') ? n.toFixed(20).replace(/0+$/, '') : n.toString()}::numeric`;
}

/**
 * The type a column is hashed as, so that equal values hash equally whatever each side declared:
 * integers as int8, any numeric mix as numeric (PostgreSQL's numeric hash ignores the scale: 0.5 and 0.500
 * hash alike), timestamp and timestamptz as timestamptz (a timestamp read as UTC), text-like as text, json
 * as jsonb. `undefined`: no common hash type; the pair is hashed by its canonical text.
 */
function hashType(c: ColumnInfo): string | undefined {
  if (INTEGER_TYPES.has(c.typeName)) return 'int8';
  if (isNumericType(c)) return 'numeric';
  switch (c.typeName) {
    case 'timestamptz':
    case 'timestamp':
      return 'timestamptz';
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return 'text';
    case 'json':
    case 'jsonb':
      return 'jsonb';
    case 'date':
    case 'bool':
    case 'uuid':
    case 'bytea':
      return c.typeName;
    default:
      return undefined;
  }
}

/** The common hash type of a column of blue and its peer in green. */
export function commonHashType(a: ColumnInfo, b: ColumnInfo): string | undefined {
  const x = hashType(a);
  const y = hashType(b);
  if (x === y) return x;
  // An integer beside a numeric or float: both as numeric.
  if ((x === 'int8' && y === 'numeric') || (x === 'numeric' && y === 'int8')) return 'numeric';
  return undefined;
}

/** The expression hashed for a column, given the pair's common hash type (or its canonical text). */
export function hashValueExpr(alias: string, c: ColumnInfo, type: string | undefined): string {
  if (type === undefined) return canonicalExpr(alias, c);
  const col = `${alias}.${quoteIdent(c.name)}`;
  if (type === 'timestamptz' && c.typeName === 'timestamp') return `(${col} AT TIME ZONE 'UTC')`;
  if (type === 'text' && (c.typeName === 'text' || c.typeName === 'varchar')) return col;
  if (type === c.typeName) return col;
  return `${col}::${type}`;
}

/** 64-bit hash of a row of typed values: hash_record_extended (PostgreSQL 14+) combines each type's hash. */
export function hashRecord(exprs: readonly string[], seed: number): string {
  if (exprs.length === 0) throw new Error('hashRecord needs at least one expression');
  return `hash_record_extended(ROW(${exprs.join(', ')}), ${seed})`;
}

/** `ROW(e1, e2, ...)::text`: the unambiguous encoding of several canonical texts (a row or a key). */
export function rowText(exprs: readonly string[]): string {
  if (exprs.length === 0) throw new Error('rowText needs at least one expression');
  return `ROW(${exprs.join(', ')})::text`;
}

/** 64-bit hash of a text (hashtextextended, PostgreSQL's hash for text; same on every server of a major). */
export function hash64(textExpr: string, seed: number): string {
  return `hashtextextended(${textExpr}, ${seed})`;
}

/** Session settings that make the canonical texts independent of the role's and server's defaults. */
export const CANONICAL_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  "SET LOCAL bytea_output = 'hex'",
  'SET LOCAL extra_float_digits = 1',
] as const;
