import type { FailureKind } from '../data-checks/connection';

/** `identical`: every row matches; `different`: at least one difference; `error`: could not compare. */
export type ParityStatus = 'identical' | 'different' | 'error';

/** The kinds of difference a sample can show. */
export type DifferenceKind = 'onlyInBlue' | 'onlyInGreen' | 'changed' | 'duplicateKey' | 'nullKey';

export interface PerSide {
  readonly blue: number;
  readonly green: number;
}

/** One differing row: its key and, for `changed`, the differing columns side by side. */
export interface ParitySample {
  readonly kind: DifferenceKind;
  /** Key column -> canonical value (null for SQL NULL). */
  readonly key: Readonly<Record<string, string | null>>;
  /** For `changed`: the columns that differ, blue and green values (canonical text). */
  readonly columns?: readonly {
    readonly column: string;
    readonly blue: string | null;
    readonly green: string | null;
  }[];
  /** For `duplicateKey`: how many rows carry this key on `side`. */
  readonly count?: number;
  /** For `onlyInBlue` / `onlyInGreen` / `nullKey`: the row's compared values (canonical text). */
  readonly values?: Readonly<Record<string, string | null>>;
  /** For `duplicateKey` and `nullKey`: which side. */
  readonly side?: 'blue' | 'green';
}

export interface ParityWindowReport {
  readonly column: string;
  readonly hours: number;
  /** ISO bounds of the rows compared. */
  readonly from: string;
  readonly to: string;
  /** Rows newer than `to` left for the next run (one side trails the other by less than settleMinutes). */
  readonly settling: PerSide;
  /** Share of the window's time span that was compared, 0..1 (1 when no rows were left to settle). */
  readonly share: number;
}

export interface ParityResult {
  readonly status: ParityStatus;
  readonly blue: string;
  readonly green: string;
  readonly key: readonly string[];
  /** Columns compared (the key included), in blue's order. */
  readonly columns: readonly string[];
  readonly excluded: readonly string[];
  readonly rows: PerSide;
  readonly identical: number;
  readonly onlyInBlue: number;
  readonly onlyInGreen: number;
  readonly changed: number;
  /** Changed rows per column (a row counts once in each column that differs). */
  readonly changedByColumn: Readonly<Record<string, number>>;
  /** Keys that occur more than once on a side (such rows are not compared row by row). */
  readonly duplicateKeys: PerSide;
  /** Rows with a NULL in a key column (they cannot be matched). */
  readonly nullKeys: PerSide;
  /** onlyInBlue + onlyInGreen + changed + duplicate keys + null keys: what maxDifferences bounds. */
  readonly differences: number;
  /** Share of the requested rows compared: 1 without a window, the window's share with one. */
  readonly comparedShare: number;
  readonly window?: ParityWindowReport;
  readonly samples: readonly ParitySample[];
  readonly algorithm: 'bucket-range' | 'bucket-hash' | 'bisect';
  /** Buckets (or, for bisect, leaf ranges) whose hashes differed and whose rows were joined. */
  readonly bucketsCompared: number;
  readonly bucketsDiffering: number;
  /** Whether a unique index proved the key unique on each side (otherwise a duplicate scan ran). */
  readonly keyUniqueByIndex: { readonly blue: boolean; readonly green: boolean };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Time waiting for the database, summed over statements (both sides). */
  readonly databaseMs: number;
  readonly failure?: { readonly kind: FailureKind; readonly message: string };
}

/** The total that `maxDifferences` bounds. */
export function differencesOf(
  r: Pick<ParityResult, 'onlyInBlue' | 'onlyInGreen' | 'changed' | 'duplicateKeys' | 'nullKeys'>,
): number {
  return (
    r.onlyInBlue +
    r.onlyInGreen +
    r.changed +
    r.duplicateKeys.blue +
    r.duplicateKeys.green +
    r.nullKeys.blue +
    r.nullKeys.green
  );
}

/** The result of a comparison that could not run (missing table or column, permission, timeout, ...). */
export function failedResult(opts: {
  blue: string;
  green: string;
  key: readonly string[];
  started: Date;
  finished: Date;
  databaseMs?: number;
  failure: { kind: FailureKind; message: string };
}): ParityResult {
  const zero = { blue: 0, green: 0 };
  return {
    status: 'error',
    blue: opts.blue,
    green: opts.green,
    key: opts.key,
    columns: [],
    excluded: [],
    rows: zero,
    identical: 0,
    onlyInBlue: 0,
    onlyInGreen: 0,
    changed: 0,
    changedByColumn: {},
    duplicateKeys: zero,
    nullKeys: zero,
    differences: 0,
    comparedShare: 0,
    samples: [],
    algorithm: 'bucket-hash',
    bucketsCompared: 0,
    bucketsDiffering: 0,
    keyUniqueByIndex: { blue: false, green: false },
    startedAt: opts.started.toISOString(),
    finishedAt: opts.finished.toISOString(),
    durationMs: opts.finished.getTime() - opts.started.getTime(),
    databaseMs: opts.databaseMs ?? 0,
    failure: opts.failure,
  };
}
