/**
 * What one blue-vs-green comparison is asked to do. Built from a config pair (`parity[]`) or from the
 * CLI's ad-hoc flags; identifiers are checked against the catalog and always quoted before use.
 */

/** A table or view: `schema.table`. */
export interface RelationRef {
  readonly schemaName: string;
  readonly table: string;
}

/** Compare only the rows whose timestamp column falls in the last `hours` hours. */
export interface WindowSpec {
  /** A timestamp (or timestamptz, or date) column present on both sides. */
  readonly column: string;
  readonly hours: number;
  /**
   * How far one side may trail the other (minutes) before its missing rows count as differences: rows newer
   * than the older side's newest row, and younger than this, are left for the next run (the pipelines write
   * asynchronously). A side that trails by more is not excused: its missing rows are reported. @default 10
   */
  readonly settleMinutes?: number;
}

/**
 * How rows are found that differ:
 * - `bucket`: one aggregate per side (count and sum of row hashes per bucket of the key), then one join
 *   diff restricted to the buckets that differ. Buckets are key ranges for a single integer key (read back
 *   through its index), hash buckets otherwise.
 * - `bisect`: reladiff-style: count and sum of row hashes per key range, only the ranges that differ split
 *   again, rows joined once the ranges are small. Needs a single integer key.
 * @default bucket
 */
export type ParityAlgorithm = 'bucket' | 'bisect';

export interface ParitySpec {
  readonly blue: RelationRef;
  readonly green: RelationRef;
  /** Key columns (a business key: surrogate ids that differ between the pipelines do not belong here). */
  readonly key: readonly string[];
  /** Columns left out of the comparison (volatile: load times, surrogate ids, run ids). */
  readonly exclude?: readonly string[];
  readonly window?: WindowSpec;
  /** Per-column absolute tolerance for numeric columns: |blue - green| <= tolerance counts as equal. */
  readonly tolerance?: Readonly<Record<string, number>>;
  /** Sample rows kept per kind of difference. @default 20 */
  readonly sampleLimit?: number;
  readonly algorithm?: ParityAlgorithm;
  /** Target number of buckets (a power of two is used). @default 65536 */
  readonly buckets?: number;
}

export const DEFAULT_SAMPLE_LIMIT = 20;
export const DEFAULT_SETTLE_MINUTES = 10;
export const DEFAULT_BUCKETS = 65_536;

export function relationKey(r: RelationRef): string {
  return `${r.schemaName}.${r.table}`;
}

/** The spec of a configured pair (lib/config/sections/parity.ts). */
export function pairSpec(pair: {
  readonly blue: RelationRef;
  readonly green: RelationRef;
  readonly key: readonly string[];
  readonly exclude: readonly string[];
  readonly window?: WindowSpec;
  readonly tolerance: Readonly<Record<string, number>>;
  readonly algorithm: ParityAlgorithm;
}): ParitySpec {
  return {
    blue: pair.blue,
    green: pair.green,
    key: pair.key,
    exclude: pair.exclude,
    ...(pair.window ? { window: pair.window } : {}),
    tolerance: pair.tolerance,
    algorithm: pair.algorithm,
  };
}
