/**
 * SQL identifier handling. Names come from the validated config (lower-case identifiers), but the checker
 * never relies on that alone: every identifier is quoted here, and nothing from config is spliced into SQL
 * any other way (schema and table names used as values are passed as bind parameters).
 */

/** `"name"` with embedded double quotes doubled, as PostgreSQL's quote_ident does. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('an SQL identifier cannot be empty');
  if (name.includes('\u0000')) throw new Error('an SQL identifier cannot contain a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"`. */
export function qualifiedName(schemaName: string, table: string): string {
  return `${quoteIdent(schemaName)}.${quoteIdent(table)}`;
}

/** The key a table is known by in results, metrics and state: `schema.table` (unquoted). */
export function tableKey(schemaName: string, table: string): string {
  return `${schemaName}.${table}`;
}
