import type { ChecksStatus } from '../shared/checks-summary';
import type { FailureKind } from './connection';

/** What one run reports: the types the sweep fills and the metrics, report and CLI read. */
export type RuleName = 'minRows' | 'noDecrease' | 'appendOnly' | 'schema' | 'freshness' | 'custom' | 'access';
export type RuleStatus = 'ok' | 'baseline' | 'warning' | 'violation' | 'error';

export interface RuleResult {
  /** `schema.table`, or the custom check's name. */
  readonly target: string;
  readonly rule: RuleName;
  readonly status: RuleStatus;
  /** What was seen, for people: `13074829`, `2 rows lost`, `3h12m`. */
  readonly value: string;
  /** What it must be: `>= 13074829`, `0 rows lost`, `< 24h`. */
  readonly threshold: string;
  readonly detail: string;
  readonly failure?: FailureKind;
}

export interface TableReport {
  readonly key: string;
  /** Exact count (method `exact`), or the last exact count plus inserts counted since (`counters`). */
  readonly rowCount?: number;
  readonly rowCountExact: boolean;
  /** Rows of an earlier exact look that are gone, open until accepted (the RowsLost metric). */
  readonly rowsLost?: number;
  /** 1 while a "could not verify" is open on the table (the Unverified metric). */
  readonly unverified?: 0 | 1;
  readonly schemaChanged?: 0 | 1;
  /**
   * `counters`: nothing suspicious, no read; `audit`: a slice of key ranges read exactly (rotating audit);
   * `exact`: the whole table read exactly, with the reason.
   */
  readonly method: 'counters' | 'audit' | 'exact' | 'none';
  readonly reason?: string;
  readonly failed: boolean;
  /** The config sets a loss rule (noDecrease or appendOnly): the per-run RowsLost covers this table. */
  readonly guarded?: boolean;
  /** The config sets trackSchema: the per-run SchemaChangedTables covers this table. */
  readonly tracked?: boolean;
}

export interface FreshnessReport {
  readonly key: string;
  readonly column: string;
  readonly ageSeconds?: number;
  readonly failed: boolean;
}

export interface CustomReport {
  readonly name: string;
  readonly value?: number;
  readonly failed: boolean;
}

export interface RunReport {
  readonly status: ChecksStatus;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Time spent waiting for the database's answers (connect excluded). */
  readonly databaseMs: number;
  readonly results: readonly RuleResult[];
  readonly tables: readonly TableReport[];
  readonly freshness: readonly FreshnessReport[];
  readonly custom: readonly CustomReport[];
  /** Tables read exactly this run (whole, or an audit slice), with why. */
  readonly exactCounts: readonly { key: string; reason: string }[];
  /** Key ranges read by this run's slice of the rotating audit (nothing found: a find becomes an exact read). */
  readonly audited?: readonly { key: string; range: string }[];
  /** Why the run (or part of it) could not look. Empty on a complete run. */
  readonly failures: readonly { kind: FailureKind; message: string }[];
  readonly server?: { readonly version: number; readonly startedAt: string; readonly statsEpoch: string };
}

/** How an operator accepts a table's loss or schema change, valid for the CLI's baselines and the deployed ones. */
export const acceptHint = (key: string): string =>
  `to accept it: npm run check -- --env ENV --accept ${key} with --state FILE, or --deployed`;

/** `1 row`, `2 rows`. */
export const rowsText = (n: number): string => `${n} ${n === 1 ? 'row' : 'rows'}`;
