import { createHash } from 'node:crypto';
import type { Client, QueryResultRow } from 'pg';
import type { ChecksConfig } from '../../lib/config/schema';
import type { ChecksStatus } from '../shared/checks-summary';
import { asCheckFailed, CheckFailedError, type FailureKind } from './connection';
import { qualifiedName, quoteIdent, tableKey } from './sql';
import type { ColumnFingerprint, Counters, SchemaFingerprint, StateStore, TableState } from './state-store';

/**
 * The sweep. Light on a large database, exact about loss:
 *
 * 1. One catalog query reads, for every configured table, pg_class (oid, relfilenode) and the cumulative
 *    pg_stat_user_tables counters, plus the statistics epoch (cluster and database `stats_reset`) and the
 *    database's rollback counter, all from one statistics snapshot. Under a millisecond on 40 tables.
 * 2. A table whose counters show no DELETE since its last exact count, whose relfilenode is unchanged
 *    (TRUNCATE, VACUUM FULL and CLUSTER give a table a new one) and whose statistics were not reset has
 *    lost no row: its count is at least the last exact count. No scan.
 * 3. Otherwise (first run, deletes counted, new relfilenode, replaced table, statistics reset, a floor
 *    not yet proven) the table is counted exactly, and the loss is worked out from the exact counts and
 *    the counters. n_tup_del also counts rolled-back deletes, so a counted delete is confirmed before it
 *    pages: rows lost = (committed changes since the count - (count now - count then)) / 2, where the
 *    committed changes come from n_mod_since_analyze (committed inserts, updates and deletes only).
 *    When that cannot decide (ANALYZE reset the counter, updates mixed with rollbacks), the drop below
 *    the last exact count is still certain; anything undecidable is reported as "could not verify",
 *    never as all good and never as a page.
 *
 * Counters reach the statistics system when the writing session flushes them (within about a second
 * when it goes idle, up to about 10 s when it stays busy), so a delete committed just before a run may
 * be seen by the next run: the baseline only advances past counters the run has accounted for, so such
 * a delete is never skipped, only reported one run later.
 */

export type RuleName = 'minRows' | 'noDecrease' | 'appendOnly' | 'schema' | 'freshness' | 'custom' | 'access';
export type RuleStatus = 'ok' | 'baseline' | 'warning' | 'violation' | 'error';

export interface RuleResult {
  /** `schema.table`, or the custom check's name. */
  readonly target: string;
  readonly rule: RuleName;
  readonly status: RuleStatus;
  /** What was seen, for people: `13074829`, `2 rows lost`, `3h12m`. */
  readonly value: string;
  /** What it must be: `>= 13074829`, `0 deletes`, `< 24h`. */
  readonly threshold: string;
  readonly detail: string;
  readonly failure?: FailureKind;
}

export interface TableReport {
  readonly key: string;
  /** Exact count, or (method `counters`) the last exact count plus inserts counted since. */
  readonly rowCount?: number;
  readonly rowCountExact: boolean;
  readonly rowsLost?: number;
  readonly deletesSeen?: number;
  readonly schemaChanged?: 0 | 1;
  /** `counters`: no scan needed; `exact-count`: counted, with the reason. */
  readonly method: 'counters' | 'exact-count' | 'none';
  readonly reason?: string;
  readonly failed: boolean;
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
  /** Tables counted exactly this run, with why. */
  readonly exactCounts: readonly { key: string; reason: string }[];
  /** Why the run (or part of it) could not look. Empty on a complete run. */
  readonly failures: readonly { kind: FailureKind; message: string }[];
  readonly server?: { readonly version: number; readonly startedAt: string; readonly statsEpoch: string };
}

export interface RunOptions {
  readonly client: Client;
  readonly plan: ChecksConfig;
  readonly store: StateStore;
  /** Tables (`schema.table`) whose open loss and schema change the operator accepts: re-baselined. */
  readonly accept?: readonly string[];
  readonly clock?: () => Date;
}

interface StatsRow extends QueryResultRow {
  ord: string;
  schema_name: string;
  table_name: string;
  oid: string | null;
  relkind: string | null;
  relfilenode: string | null;
  can_select: boolean | null;
  n_tup_ins: string | null;
  n_tup_upd: string | null;
  n_tup_del: string | null;
  n_mod_since_analyze: string | null;
  analyzes: string | null;
}

const STATS_SQL = `
SELECT i.ord, i.schema_name, i.table_name,
       c.oid::bigint AS oid, c.relkind::text AS relkind, c.relfilenode::bigint AS relfilenode,
       CASE WHEN c.oid IS NULL THEN NULL ELSE has_table_privilege(c.oid, 'SELECT') END AS can_select,
       pg_stat_get_tuples_inserted(c.oid) AS n_tup_ins,
       pg_stat_get_tuples_updated(c.oid) AS n_tup_upd,
       pg_stat_get_tuples_deleted(c.oid) AS n_tup_del,
       pg_stat_get_mod_since_analyze(c.oid) AS n_mod_since_analyze,
       pg_stat_get_analyze_count(c.oid) + pg_stat_get_autoanalyze_count(c.oid) AS analyzes
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(schema_name, table_name, ord)
  LEFT JOIN pg_namespace n ON n.nspname = i.schema_name
  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = i.table_name AND c.relkind IN ('r', 'p')
 ORDER BY i.ord`;

const SERVER_SQL = `
SELECT pg_is_in_recovery() AS in_recovery,
       pg_postmaster_start_time() AS started,
       (SELECT stats_reset FROM pg_stat_bgwriter) AS cluster_stats_reset,
       d.stats_reset AS db_stats_reset,
       d.xact_rollback
  FROM pg_stat_database d
 WHERE d.datname = current_database()`;

/** Columns in order, with their position in the primary key (NULL when not in it): one catalog read. */
const COLUMNS_SQL = `
SELECT a.attrelid::bigint AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null, array_position(i.indkey::int2[], a.attnum) AS pk_position
  FROM pg_attribute a
  LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
 WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum`;

/** Whether an index leads with each freshness column (without one, MAX() reads the whole table every run). */
const FRESHNESS_INDEX_SQL = `
SELECT i.ord, bool_or(x.indexrelid IS NOT NULL) AS indexed
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(schema_name, table_name, column_name, ord)
  LEFT JOIN pg_namespace n ON n.nspname = i.schema_name
  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = i.table_name
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = i.column_name AND NOT a.attisdropped
  LEFT JOIN pg_index x ON x.indrelid = c.oid AND x.indkey[0] = a.attnum
 GROUP BY i.ord
HAVING bool_or(a.attnum IS NOT NULL)
 ORDER BY i.ord`;

const num = (v: string | number | null | undefined): number =>
  v === null || v === undefined ? 0 : Number(v);

/** Runs every configured check in one read-only transaction on `client`; never throws for database errors. */
export async function runChecks(opts: RunOptions): Promise<RunReport> {
  const clock = opts.clock ?? (() => new Date());
  const started = clock();
  const t0 = process.hrtime.bigint();
  let databaseNs = 0n;
  const client = opts.client;
  const query = async <R extends QueryResultRow>(text: string, values?: unknown[]) => {
    const q0 = process.hrtime.bigint();
    try {
      return await client.query<R>({ text, values: values ?? [] });
    } finally {
      databaseNs += process.hrtime.bigint() - q0;
    }
  };

  const results: RuleResult[] = [];
  const tables: TableReport[] = [];
  const freshness: FreshnessReport[] = [];
  const custom: CustomReport[] = [];
  const exactCounts: { key: string; reason: string }[] = [];
  const failures: { kind: FailureKind; message: string }[] = [];
  let server: RunReport['server'];
  const accepted = new Set(opts.accept ?? []);

  const finish = (): RunReport => {
    const status: ChecksStatus =
      failures.length > 0 || results.some((r) => r.status === 'error')
        ? 'error'
        : results.some((r) => r.status === 'violation')
          ? 'violation'
          : 'ok';
    const finished = clock();
    return {
      status,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: Number(process.hrtime.bigint() - t0) / 1e6,
      databaseMs: Number(databaseNs) / 1e6,
      results,
      tables,
      freshness,
      custom,
      exactCounts,
      failures,
      server,
    };
  };

  let previous: Map<string, TableState>;
  try {
    previous = await opts.store.load(opts.plan.tables.map((t) => tableKey(t.schemaName, t.table)));
  } catch (err) {
    failures.push({ kind: 'state', message: `cannot read the checks state: ${(err as Error).message}` });
    return finish();
  }

  const nextStates: TableState[] = [];
  let inTransaction = false;
  try {
    const version = Number(
      (await query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v,
    );
    await query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    inTransaction = true;
    // All statistics read below come from one snapshot, taken with the transaction's MVCC snapshot.
    if (version >= 150000) await query("SET LOCAL stats_fetch_consistency = 'snapshot'");

    const srv = (
      await query<{
        in_recovery: boolean;
        started: Date;
        cluster_stats_reset: Date | null;
        db_stats_reset: Date | null;
        xact_rollback: string;
      }>(SERVER_SQL)
    ).rows[0];
    if (!srv) throw new CheckFailedError('error', 'pg_stat_database has no row for the current database');
    if (srv.in_recovery) {
      throw new CheckFailedError(
        'replica',
        'connected to a read replica (pg_is_in_recovery() is true): its statistics do not see the primary’s writes; point the checks at the primary',
      );
    }
    const epoch = `${srv.cluster_stats_reset?.toISOString() ?? 'never'}|${srv.db_stats_reset?.toISOString() ?? 'never'}`;
    const rollbacks = num(srv.xact_rollback);
    server = { version, startedAt: srv.started.toISOString(), statsEpoch: epoch };

    const plan = opts.plan;
    // The pg_stat_get_* functions read just these tables (the pg_stat_all_tables view aggregates every
    // relation of the database: several milliseconds more for the same numbers).
    const stats = (
      await query<StatsRow>(STATS_SQL, [
        plan.tables.map((t) => t.schemaName),
        plan.tables.map((t) => t.table),
      ])
    ).rows;

    const oids = stats.filter((s) => s.oid !== null).map((s) => s.oid);
    const fingerprints = await readFingerprints(query, oids);

    /** Runs `fn` inside a savepoint, so one table's error does not end the run. */
    const guarded = async <T>(what: string, fn: () => Promise<T>): Promise<T | CheckFailedError> => {
      await query('SAVEPOINT guardrails_check');
      try {
        const v = await fn();
        await query('RELEASE SAVEPOINT guardrails_check');
        return v;
      } catch (err) {
        await query('ROLLBACK TO SAVEPOINT guardrails_check');
        return asCheckFailed(err, what);
      }
    };

    for (const [i, cfg] of plan.tables.entries()) {
      const key = tableKey(cfg.schemaName, cfg.table);
      const row = stats[i];
      const prev = accepted.has(key) ? acceptPrevious(previous.get(key)) : previous.get(key);
      const fail = (kind: FailureKind, message: string) => {
        for (const rule of rulesOf(cfg)) {
          results.push({
            target: key,
            rule,
            status: 'error',
            value: '-',
            threshold: '-',
            detail: message,
            failure: kind,
          });
        }
        tables.push({ key, rowCountExact: false, method: 'none', failed: true });
        if (prev) nextStates.push(prev);
      };
      if (!row || row.oid === null) {
        fail('missing-object', `table ${key} does not exist (or is not a table)`);
        continue;
      }
      if (row.can_select !== true) {
        fail('permission-denied', `the checker's role has no SELECT privilege on ${key}`);
        continue;
      }
      const obs: Observation = {
        oid: num(row.oid),
        relfilenode: num(row.relfilenode),
        partitioned: row.relkind === 'p',
        counters: {
          ins: num(row.n_tup_ins),
          upd: num(row.n_tup_upd),
          del: num(row.n_tup_del),
          mod: num(row.n_mod_since_analyze),
          analyzes: num(row.analyzes),
        },
        epoch,
        rollbacks,
      };
      const reason = countReason(cfg, prev, obs);
      let exact: number | undefined;
      if (reason !== undefined) {
        const counted = await guarded(`counting ${key}`, async () => {
          const r = await query<{ n: string }>(
            `SELECT count(*) AS n FROM ${qualifiedName(cfg.schemaName, cfg.table)}`,
          );
          return num(r.rows[0]?.n);
        });
        if (counted instanceof CheckFailedError) {
          fail(counted.kind, counted.message);
          continue;
        }
        exact = counted;
        exactCounts.push({ key, reason });
      }
      const verdict = judgeTable(cfg, prev, obs, exact, reason, started);
      results.push(...verdict.results);
      const fp = fingerprints.get(obs.oid);
      let schemaChanged: 0 | 1 | undefined;
      let fingerprint = prev?.fingerprint;
      if (cfg.trackSchema && fp) {
        const s = judgeSchema(key, prev?.fingerprint, fp);
        results.push(s.result);
        schemaChanged = s.changed ? 1 : 0;
        if (!s.changed) fingerprint = fp;
      }
      tables.push({ ...verdict.report, key, schemaChanged, reason });
      const base = verdict.state ?? prev;
      if (base) nextStates.push({ ...base, key, ...(fingerprint ? { fingerprint } : {}) });
    }

    const indexed =
      plan.freshness.length === 0
        ? []
        : // Only existing columns come back: a missing one is reported by the freshness query itself.
          (
            await query<{ ord: string; indexed: boolean }>(FRESHNESS_INDEX_SQL, [
              plan.freshness.map((f) => f.schemaName),
              plan.freshness.map((f) => f.table),
              plan.freshness.map((f) => f.column),
            ])
          ).rows.reduce<boolean[]>((acc, r) => {
            acc[Number(r.ord) - 1] = r.indexed;
            return acc;
          }, []);
    for (const [i, f] of plan.freshness.entries()) {
      const key = tableKey(f.schemaName, f.table);
      if (indexed[i] === false) {
        results.push({
          target: key,
          rule: 'freshness',
          status: 'warning',
          value: 'no index',
          threshold: `an index on ${f.column}`,
          detail: `no index leads with ${f.column}: every run reads the whole table for max(${f.column}); CREATE INDEX CONCURRENTLY on it`,
        });
      }
      const age = await guarded(`freshness of ${key}.${f.column}`, async () => {
        const r = await query<{ age: number | null; newest: Date | string | null }>(
          `SELECT extract(epoch FROM (now() - max(${quoteIdent(f.column)})))::float8 AS age,
                  max(${quoteIdent(f.column)})::text AS newest
             FROM ${qualifiedName(f.schemaName, f.table)}`,
        );
        return r.rows[0] ?? { age: null, newest: null };
      });
      const threshold = `warn > ${minutes(f.warnAfterMinutes)}, error > ${minutes(f.errorAfterMinutes)}`;
      if (age instanceof CheckFailedError) {
        results.push({
          target: key,
          rule: 'freshness',
          status: 'error',
          value: '-',
          threshold,
          detail: age.message,
          failure: age.kind,
        });
        freshness.push({ key, column: f.column, failed: true });
        continue;
      }
      if (age.age === null) {
        results.push({
          target: key,
          rule: 'freshness',
          status: 'violation',
          value: 'no rows',
          threshold,
          detail: `${f.column}: the table has no rows with a ${f.column}`,
        });
        freshness.push({ key, column: f.column, failed: false });
        continue;
      }
      const seconds = Math.max(0, Number(age.age));
      const status: RuleStatus =
        seconds > f.errorAfterMinutes * 60
          ? 'violation'
          : seconds > f.warnAfterMinutes * 60
            ? 'warning'
            : 'ok';
      results.push({
        target: key,
        rule: 'freshness',
        status,
        value: formatAge(seconds),
        threshold,
        detail: `newest ${f.column} ${String(age.newest)}`,
      });
      freshness.push({ key, column: f.column, ageSeconds: Math.round(seconds), failed: false });
    }

    for (const c of plan.custom) {
      const bounds = [c.min !== undefined ? `>= ${c.min}` : '', c.max !== undefined ? `<= ${c.max}` : '']
        .filter(Boolean)
        .join(' and ');
      const value = await guarded(`custom check ${c.name}`, async () => {
        // Extended protocol (bind values): the server refuses more than one statement.
        const r = await query(c.sql.replace(/;\s*$/, ''));
        if (r.rows.length !== 1 || r.fields.length !== 1) {
          throw new CheckFailedError(
            'error',
            `returned ${r.rows.length} row(s) of ${r.fields.length} column(s); expected one row with one number`,
          );
        }
        const raw = Object.values(r.rows[0] as Record<string, unknown>)[0];
        const n =
          typeof raw === 'number'
            ? raw
            : typeof raw === 'string' || typeof raw === 'bigint'
              ? Number(raw)
              : NaN;
        if (!Number.isFinite(n))
          throw new CheckFailedError('error', `returned ${JSON.stringify(raw)}; expected a number`);
        return n;
      });
      if (value instanceof CheckFailedError) {
        results.push({
          target: c.name,
          rule: 'custom',
          status: 'error',
          value: '-',
          threshold: bounds,
          detail: value.message,
          failure: value.kind,
        });
        custom.push({ name: c.name, failed: true });
        continue;
      }
      const out = (c.min !== undefined && value < c.min) || (c.max !== undefined && value > c.max);
      results.push({
        target: c.name,
        rule: 'custom',
        status: out ? (c.severity === 'critical' ? 'violation' : 'warning') : 'ok',
        value: String(value),
        threshold: bounds,
        detail: c.description,
      });
      custom.push({ name: c.name, value, failed: false });
    }

    await query('COMMIT');
    inTransaction = false;
  } catch (err) {
    const failure = asCheckFailed(err, 'checks aborted');
    failures.push({ kind: failure.kind, message: failure.message });
    if (inTransaction) await client.query('ROLLBACK').catch(() => undefined);
    return finish();
  }

  try {
    if (nextStates.length > 0) await opts.store.save(nextStates);
  } catch (err) {
    failures.push({ kind: 'state', message: `cannot save the checks state: ${(err as Error).message}` });
  }
  return finish();
}

interface Observation {
  readonly oid: number;
  readonly relfilenode: number;
  readonly partitioned: boolean;
  readonly counters: Counters;
  readonly epoch: string;
  readonly rollbacks: number;
}

type TableConfig = ChecksConfig['tables'][number];

function rulesOf(cfg: TableConfig): RuleName[] {
  const rules: RuleName[] = [];
  if (cfg.minRows !== undefined) rules.push('minRows');
  if (cfg.noDecrease) rules.push('noDecrease');
  if (cfg.appendOnly) rules.push('appendOnly');
  if (cfg.trackSchema) rules.push('schema');
  return rules.length > 0 ? rules : ['access'];
}

/** Clears what the operator accepted: the open loss, and the schema fingerprint (taken again). */
function acceptPrevious(prev: TableState | undefined): TableState | undefined {
  if (!prev) return undefined;
  const { openLoss: _o, fingerprint: _f, unsettledRuns: _u, ...rest } = prev;
  return rest;
}

function countersWentBack(a: Counters, b: Counters): boolean {
  return b.ins < a.ins || b.upd < a.upd || b.del < a.del;
}

/** Why this table must be counted exactly this run, or undefined when the counters prove no loss. */
export function countReason(
  cfg: TableConfig,
  prev: TableState | undefined,
  obs: Observation,
): string | undefined {
  if (!prev) return 'first run: baseline';
  if (obs.oid !== prev.oid) return 'table replaced (new oid)';
  if (obs.epoch !== prev.epoch || countersWentBack(prev.counters, obs.counters)) return 'statistics reset';
  if (obs.relfilenode !== prev.relfilenode) return 'new relfilenode (TRUNCATE or rewrite)';
  if (obs.counters.del > prev.counters.del)
    return `${obs.counters.del - prev.counters.del} delete(s) counted`;
  if (obs.partitioned) return 'partitioned table (counters live on its partitions)';
  if ((prev.unsettledRuns ?? 0) > 0) return 'counters did not settle last run';
  if (cfg.minRows !== undefined && prev.count < cfg.minRows) return 'last exact count below the floor';
  return undefined;
}

interface LossVerdict {
  /** Rows lost since the last exact count (exact when `decided`). */
  readonly lost: number;
  readonly decided: boolean;
  /** The counters did not add up yet (a writer's statistics still in flight): look again next run. */
  readonly unsettled: boolean;
  readonly how: string;
}

/** Rows lost between the last exact count and now, from two exact counts and the counters. */
export function lossSince(prev: TableState, obs: Observation, n: number, reason: string): LossVerdict {
  const b = prev.count;
  const certain = Math.max(0, b - n);
  if (obs.oid !== prev.oid) {
    return {
      lost: b,
      decided: true,
      unsettled: false,
      how: `table replaced: none of the ${b} baseline rows remain in it`,
    };
  }
  if (reason === 'statistics reset') {
    return certain > 0
      ? {
          lost: certain,
          decided: true,
          unsettled: false,
          how: `statistics reset; exact count ${n} < last exact count ${b}`,
        }
      : {
          lost: 0,
          decided: n === b,
          unsettled: false,
          how:
            n === b
              ? `statistics reset; exact count ${n} equals the last exact count`
              : `statistics reset; exact count ${n} >= last exact count ${b}, but deletes hidden by inserts during the reset cannot be ruled out`,
        };
  }
  const dIns = obs.counters.ins - prev.counters.ins;
  const dUpd = obs.counters.upd - prev.counters.upd;
  const dDel = obs.counters.del - prev.counters.del;
  const dMod = obs.counters.mod - prev.counters.mod;
  const noRollbacks = obs.rollbacks === prev.rollbacks;
  const expected = b + dIns - dDel;
  const rewritten = obs.relfilenode !== prev.relfilenode;

  if (rewritten) {
    if (noRollbacks) {
      // Every counted change committed. Rows the counters cannot account for were truncated, once the
      // shortfall survives a second look (a shortfall may also be statistics still in flight).
      if (n === expected || (n < expected && (prev.unsettledRuns ?? 0) >= 1)) {
        return {
          lost: Math.max(certain, dDel + (expected - n)),
          decided: true,
          unsettled: false,
          how: `new relfilenode; exact ${n}, ${expected} expected from the counters, ${dDel} delete(s) counted`,
        };
      }
      return {
        lost: certain,
        decided: false,
        unsettled: true,
        how: `new relfilenode; exact ${n}, ${expected} expected from the counters; looking again before deciding`,
      };
    }
    if (dDel === 0 && n >= expected) {
      return {
        lost: 0,
        decided: true,
        unsettled: false,
        how: `new relfilenode (VACUUM FULL / CLUSTER); all ${expected} expected rows present`,
      };
    }
    return certain > 0
      ? {
          lost: certain,
          decided: true,
          unsettled: false,
          how: `new relfilenode; exact ${n} < last exact count ${b}`,
        }
      : {
          lost: 0,
          decided: false,
          unsettled: false,
          how: `new relfilenode; exact ${n}, up to ${expected} expected; rolled-back transactions make the difference undecidable`,
        };
  }

  if (dDel === 0) {
    // No delete counted yet: a drop means deletes whose statistics are still in flight.
    return certain > 0
      ? { lost: certain, decided: true, unsettled: false, how: `exact ${n} < last exact count ${b}` }
      : {
          lost: 0,
          decided: true,
          unsettled: false,
          how: `exact ${n} >= last exact count ${b}, no delete counted`,
        };
  }

  // Deletes counted: confirm them with committed-only changes (n_mod_since_analyze).
  const analyzed = obs.counters.analyzes !== prev.counters.analyzes;
  if (!analyzed && (dUpd === 0 || noRollbacks)) {
    const twice = dMod - dUpd - (n - b);
    const lost = twice / 2;
    if (twice >= 0 && twice % 2 === 0 && lost <= dDel && lost >= certain) {
      return {
        lost,
        decided: true,
        unsettled: false,
        how: `${dDel} delete(s) counted, ${lost} committed (exact ${n}, last ${b}, committed changes ${dMod})`,
      };
    }
    return {
      lost: certain,
      decided: false,
      unsettled: true,
      how: `counters do not add up yet (exact ${n}, last ${b}, +${dIns} -${dDel}, committed changes ${dMod}); statistics of a busy writer may lag`,
    };
  }
  if (noRollbacks) {
    // No transaction rolled back since the last count: every counted delete committed, if the counts agree.
    if (n === expected) {
      return {
        lost: dDel,
        decided: true,
        unsettled: false,
        how: `${dDel} delete(s) counted and no transaction rolled back`,
      };
    }
    return {
      lost: certain,
      decided: false,
      unsettled: true,
      how: `exact ${n}, ${expected} expected from the counters (+${dIns} -${dDel}); statistics of a busy writer may lag`,
    };
  }
  return certain > 0
    ? { lost: certain, decided: true, unsettled: false, how: `exact ${n} < last exact count ${b}` }
    : {
        lost: 0,
        decided: false,
        unsettled: false,
        how: `${dDel} delete(s) counted, but ANALYZE ran and transactions rolled back: cannot tell committed deletes from rolled-back ones`,
      };
}

interface TableVerdict {
  readonly results: RuleResult[];
  readonly report: Omit<TableReport, 'key' | 'schemaChanged' | 'reason'>;
  /** The new baseline, or undefined to keep the previous one. */
  readonly state?: TableState;
}

function judgeTable(
  cfg: TableConfig,
  prev: TableState | undefined,
  obs: Observation,
  exact: number | undefined,
  reason: string | undefined,
  now: Date,
): TableVerdict {
  const key = tableKey(cfg.schemaName, cfg.table);
  const results: RuleResult[] = [];
  const floor = (count: number, exactCount: boolean) => {
    if (cfg.minRows === undefined) return;
    const ok = count >= cfg.minRows;
    results.push({
      target: key,
      rule: 'minRows',
      status: ok ? 'ok' : 'violation',
      value: String(count),
      threshold: `>= ${cfg.minRows}`,
      detail: exactCount ? 'exact count' : 'at least the last exact count (no delete counted since)',
    });
  };
  const newState = (count: number, extra: Partial<TableState> = {}): TableState => ({
    key,
    oid: obs.oid,
    relfilenode: obs.relfilenode,
    count,
    countedAt: now.toISOString(),
    counters: obs.counters,
    epoch: obs.epoch,
    rollbacks: obs.rollbacks,
    ...extra,
  });

  if (exact === undefined) {
    // Proven by counters: no delete, same relfilenode, same statistics epoch.
    const p = prev!;
    const estimate = p.count + (obs.counters.ins - p.counters.ins);
    floor(p.count, false);
    pushLossRules(results, cfg, key, 0, 0, p, 'no delete counted, same relfilenode', 'ok');
    return {
      results,
      report: countReport(estimate, false, p.openLoss),
      state: prev,
    };
  }

  floor(exact, true);
  if (!prev) {
    pushLossRules(results, cfg, key, 0, 0, undefined, `baseline taken: ${exact} rows`, 'baseline');
    return {
      results,
      report: countReport(exact, true, undefined),
      state: newState(exact),
    };
  }

  const v = lossSince(prev, obs, exact, reason ?? '');
  if (v.unsettled && (prev.unsettledRuns ?? 0) < 2 && v.lost === 0) {
    // Keep the old baseline and look again next run; not green, not a page.
    pushLossRules(results, cfg, key, 0, 0, prev, `${v.how}; re-checking next run`, 'warning');
    return {
      results,
      report: countReport(exact, true, prev.openLoss),
      state: { ...prev, unsettledRuns: (prev.unsettledRuns ?? 0) + 1 },
    };
  }
  if (!v.decided && v.lost === 0) {
    // Could not verify: reported as an error (never green), then re-baselined so the next run is exact.
    pushLossRules(results, cfg, key, 0, 0, prev, `could not verify: ${v.how}`, 'error');
    const { unsettledRuns: _u, ...rest } = newState(exact, prev.openLoss ? { openLoss: prev.openLoss } : {});
    return {
      results,
      report: countReport(exact, true, prev.openLoss, true),
      state: rest,
    };
  }
  const openLoss =
    v.lost > 0
      ? {
          rowsLost: (prev.openLoss?.rowsLost ?? 0) + v.lost,
          deletesSeen: (prev.openLoss?.deletesSeen ?? 0) + v.lost,
          since: prev.openLoss?.since ?? now.toISOString(),
          detail: v.how,
        }
      : prev.openLoss;
  pushLossRules(results, cfg, key, v.lost, v.lost, prev, v.how, 'ok', openLoss);
  return {
    results,
    report: countReport(exact, true, openLoss),
    state: newState(exact, openLoss ? { openLoss } : {}),
  };
}

/** A table's count report: the row count, how it was known, and the loss still open (not yet accepted). */
function countReport(
  rowCount: number,
  exact: boolean,
  openLoss: TableState['openLoss'],
  failed = false,
): Omit<TableReport, 'key'> {
  return {
    rowCount,
    rowCountExact: exact,
    rowsLost: openLoss?.rowsLost ?? 0,
    deletesSeen: openLoss?.deletesSeen ?? 0,
    method: exact ? 'exact-count' : 'counters',
    failed,
  };
}

/** noDecrease and appendOnly results; an open (not yet accepted) loss keeps them in violation. */
function pushLossRules(
  results: RuleResult[],
  cfg: TableConfig,
  key: string,
  lostNow: number,
  deletesNow: number,
  prev: TableState | undefined,
  how: string,
  quietStatus: RuleStatus,
  openLoss = prev?.openLoss,
) {
  const open = openLoss;
  const lost = open?.rowsLost ?? lostNow;
  const deletes = open?.deletesSeen ?? deletesNow;
  const detailOf = (n: number) =>
    n > 0 ? `${how}${open ? ` (open since ${open.since}; ${acceptHint(key)})` : ''}` : how;
  if (cfg.noDecrease) {
    results.push({
      target: key,
      rule: 'noDecrease',
      status: lost > 0 ? 'violation' : quietStatus,
      value: `${lost} ${lost === 1 ? 'row' : 'rows'} lost`,
      threshold: '0 rows lost',
      detail: detailOf(lost),
    });
  }
  if (cfg.appendOnly) {
    results.push({
      target: key,
      rule: 'appendOnly',
      status: deletes > 0 ? 'violation' : quietStatus,
      value: `${deletes} ${deletes === 1 ? 'row' : 'rows'} deleted`,
      threshold: '0 deletes or truncates',
      detail: detailOf(deletes),
    });
  }
}

/** How an operator accepts a table's loss or schema change, valid for the CLI's baselines and the deployed ones. */
const acceptHint = (key: string) =>
  `to accept it: npm run check -- --env ENV --accept ${key} with --state FILE, or --deployed`;

type Query = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<{ rows: R[] }>;

async function readFingerprints(
  query: Query,
  oids: (string | null)[],
): Promise<Map<number, SchemaFingerprint>> {
  const out = new Map<number, SchemaFingerprint>();
  if (oids.length === 0) return out;
  const cols = await query<{
    oid: string;
    name: string;
    type: string;
    not_null: boolean;
    pk_position: number | null;
  }>(COLUMNS_SQL, [oids]);
  const byOid = new Map<number, ColumnFingerprint[]>();
  const pkOf = new Map<number, { name: string; position: number }[]>();
  for (const c of cols.rows) {
    const oid = Number(c.oid);
    byOid.set(oid, [...(byOid.get(oid) ?? []), { name: c.name, type: c.type, notNull: c.not_null }]);
    if (c.pk_position !== null) {
      pkOf.set(oid, [...(pkOf.get(oid) ?? []), { name: c.name, position: c.pk_position }]);
    }
  }
  for (const [oid, columns] of byOid) {
    const primaryKey = (pkOf.get(oid) ?? []).sort((x, y) => x.position - y.position).map((k) => k.name);
    const hash = createHash('sha256')
      .update(JSON.stringify({ columns, primaryKey }))
      .digest('hex')
      .slice(0, 16);
    out.set(oid, { hash, columns, primaryKey });
  }
  return out;
}

/** Compares the table's columns and primary key with the baseline fingerprint. */
export function judgeSchema(
  key: string,
  baseline: SchemaFingerprint | undefined,
  now: SchemaFingerprint,
): { result: RuleResult; changed: boolean } {
  if (!baseline) {
    return {
      result: {
        target: key,
        rule: 'schema',
        status: 'baseline',
        value: now.hash,
        threshold: now.hash,
        detail: `fingerprint taken: ${now.columns.length} columns, primary key (${now.primaryKey.join(', ')})`,
      },
      changed: false,
    };
  }
  if (baseline.hash === now.hash) {
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
    };
  }
  const changes: string[] = [];
  const before = new Map(baseline.columns.map((c) => [c.name, c]));
  const after = new Map(now.columns.map((c) => [c.name, c]));
  for (const [name, c] of before) {
    const a = after.get(name);
    if (!a) changes.push(`column ${name} dropped`);
    else {
      if (a.type !== c.type) changes.push(`column ${name} retyped ${c.type} -> ${a.type}`);
      if (a.notNull !== c.notNull)
        changes.push(`column ${name} ${a.notNull ? 'now NOT NULL' : 'now nullable'}`);
    }
  }
  for (const name of after.keys()) if (!before.has(name)) changes.push(`column ${name} added`);
  if (baseline.primaryKey.join(',') !== now.primaryKey.join(',')) {
    changes.push(`primary key (${baseline.primaryKey.join(', ')}) -> (${now.primaryKey.join(', ')})`);
  }
  if (changes.length === 0) changes.push('column order changed');
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
  };
}

function minutes(m: number): string {
  return m % 60 === 0 ? `${m / 60}h` : `${m}m`;
}

export function formatAge(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
}
