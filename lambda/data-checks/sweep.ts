import type { Client, QueryResultRow } from 'pg';
import type { ChecksConfig } from '../../lib/config/schema';
import type { ChecksStatus } from '../shared/checks-summary';
import { asCheckFailed, CheckFailedError, type FailureKind } from './connection';
import type { Observation, TableConfig } from './decide';
import type {
  CustomReport,
  FreshnessReport,
  RuleName,
  RuleResult,
  RuleStatus,
  RunReport,
  TableReport,
} from './results';
import { judgeSchema, readFingerprints } from './schema-fingerprint';
import { qualifiedName, quoteIdent, tableKey } from './sql';
import type { TableState } from './state';
import { InvalidStateEntry, type StateStore } from './state-store';
import { countRunsAtOnce } from './exact';
import { auditRuns, checkTable } from './table-check';

/**
 * The sweep: one run of every configured check over one connection.
 *
 * 1. One catalog query, before the snapshot, reads every configured table's oid, relfilenode, primary key,
 *    row-security state and cumulative statistics counters. Read before the snapshot, every delete these
 *    counters show is visible to it: a counter can never run ahead of what the exact reads see.
 * 2. One REPEATABLE READ, READ ONLY transaction: the schema fingerprints, then per table (table-check.ts):
 *    nothing suspicious -> no read of the table (or only this run's slice of the rotating audit); anything
 *    suspicious (a counted delete, a rewrite or new oid, counters that went back) -> the table read exactly
 *    and compared key range by key range with the last exact look (decide.ts).
 * 3. Freshness and custom checks, in the same snapshot. The new states are saved after COMMIT.
 */
export interface RunOptions {
  readonly client: Client;
  readonly plan: ChecksConfig;
  readonly store: StateStore;
  /** Tables (`schema.table`) whose open loss, "could not verify" and schema change the operator accepts. */
  readonly accept?: readonly string[];
  readonly clock?: () => Date;
}

interface StatsRow extends QueryResultRow {
  schema_name: string;
  table_name: string;
  oid: string | null;
  relkind: string | null;
  relfilenode: string | null;
  can_select: boolean | null;
  row_security: boolean | null;
  key_column: string | null;
  ins: string | null;
  upd: string | null;
  del: string | null;
  hot: string | null;
  scans: string | null;
  vacuums: string | null;
  analyzes: string | null;
}

/** Catalog and counters of just these tables (pg_stat_get_* per oid: no aggregation over every relation). */
const STATS_SQL = `
SELECT i.schema_name, i.table_name,
       c.oid::bigint AS oid, c.relkind::text AS relkind, c.relfilenode::bigint AS relfilenode,
       CASE WHEN c.oid IS NULL THEN NULL ELSE has_table_privilege(c.oid, 'SELECT') END AS can_select,
       CASE WHEN c.oid IS NULL THEN NULL ELSE row_security_active(c.oid) END AS row_security,
       (SELECT a.attname FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
         WHERE x.indrelid = c.oid AND x.indisprimary AND x.indnkeyatts = 1
           AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)) AS key_column,
       pg_stat_get_tuples_inserted(c.oid) AS ins,
       pg_stat_get_tuples_updated(c.oid) AS upd,
       pg_stat_get_tuples_deleted(c.oid) AS del,
       pg_stat_get_tuples_hot_updated(c.oid) AS hot,
       pg_stat_get_numscans(c.oid) AS scans,
       pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid) AS vacuums,
       pg_stat_get_analyze_count(c.oid) + pg_stat_get_autoanalyze_count(c.oid) AS analyzes
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(schema_name, table_name, ord)
  LEFT JOIN pg_namespace n ON n.nspname = i.schema_name
  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = i.table_name AND c.relkind IN ('r', 'p')
 ORDER BY i.ord`;

const SERVER_SQL = `
SELECT pg_is_in_recovery() AS in_recovery,
       pg_postmaster_start_time() AS started,
       d.stats_reset AS db_stats_reset
  FROM pg_stat_database d
 WHERE d.datname = current_database()`;

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
  const audited: { key: string; range: string }[] = [];
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
      audited,
      failures,
      server,
    };
  };

  let previous: Map<string, TableState | InvalidStateEntry>;
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
    const plan = opts.plan;
    // Counters first, in their own statement: whatever they count committed before the snapshot below.
    const stats = (
      await query<StatsRow>(STATS_SQL, [
        plan.tables.map((t) => t.schemaName),
        plan.tables.map((t) => t.table),
      ])
    ).rows;
    await query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    inTransaction = true;
    // Exact reads are a few large aggregates: compiling them (JIT) costs more than it saves.
    await query('SET LOCAL jit = off');

    const srv = (
      await query<{ in_recovery: boolean; started: Date; db_stats_reset: Date | null }>(SERVER_SQL)
    ).rows[0];
    if (!srv) throw new CheckFailedError('error', 'pg_stat_database has no row for the current database');
    if (srv.in_recovery) {
      throw new CheckFailedError(
        'replica',
        'connected to a read replica (pg_is_in_recovery() is true): its statistics do not see the primary’s writes; point the checks at the primary',
      );
    }
    server = {
      version,
      startedAt: srv.started.toISOString(),
      statsEpoch: srv.db_stats_reset?.toISOString() ?? 'never',
    };

    const fingerprints = await readFingerprints(
      query,
      stats.map((s) => s.oid),
    );

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

    /** As `guarded`, but the savepoint is only taken before the first read (most tables need none). */
    const guardedLazily = async <T>(
      what: string,
      fn: (q: typeof query) => Promise<T>,
    ): Promise<T | CheckFailedError> => {
      let open = false;
      const lazy = (async (text: string, values?: unknown[]) => {
        if (!open) {
          await query('SAVEPOINT guardrails_check');
          open = true;
        }
        return query(text, values);
      }) as typeof query;
      try {
        const v = await fn(lazy);
        if (open) await query('RELEASE SAVEPOINT guardrails_check');
        return v;
      } catch (err) {
        if (open) await query('ROLLBACK TO SAVEPOINT guardrails_check');
        return asCheckFailed(err, what);
      }
    };

    const now = started;
    const observe = (row: StatsRow): Observation => ({
      oid: num(row.oid),
      relfilenode: num(row.relfilenode),
      partitioned: row.relkind === 'p',
      counters: {
        ins: num(row.ins),
        upd: num(row.upd),
        del: num(row.del),
        hot: num(row.hot),
        scans: num(row.scans),
        vacuums: num(row.vacuums),
        analyzes: num(row.analyzes),
      },
      ...(row.key_column ? { keyColumn: row.key_column } : {}),
    });

    // This run's audit slices of all tables, counted in one statement (one round trip, not one per table).
    // If it fails (a lock timeout on one table), each table counts its own slice below, guarded.
    const wanted: Parameters<typeof countRunsAtOnce>[1][number][] = [];
    for (const [i, cfg] of plan.tables.entries()) {
      const key = tableKey(cfg.schemaName, cfg.table);
      const row = stats[i];
      const stored = previous.get(key);
      if (!row || row.oid === null || row.can_select !== true || row.row_security === true) continue;
      if (!stored || stored instanceof InvalidStateEntry || !row.key_column) continue;
      const runs = auditRuns({
        cfg,
        key,
        prev: stored,
        obs: observe(row),
        accepted: accepted.has(key),
        now,
        scheduleMinutes: plan.scheduleMinutes,
        exactEveryMinutes: plan.exactEveryMinutes,
      });
      const table = { schemaName: cfg.schemaName, table: cfg.table, keyColumn: row.key_column };
      for (const [lo, hi] of runs) wanted.push({ key, table, lo, hi });
    }
    const batch =
      wanted.length === 0
        ? new Map<string, Map<string, number>>()
        : await guarded('audit counts', () => countRunsAtOnce(query, wanted));
    const counted = batch instanceof CheckFailedError ? new Map<string, Map<string, number>>() : batch;

    for (const [i, cfg] of plan.tables.entries()) {
      const key = tableKey(cfg.schemaName, cfg.table);
      const row = stats[i];
      const stored = previous.get(key);
      const fail = (kind: FailureKind, message: string, keep: TableState | undefined) => {
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
        tables.push({ key, rowCountExact: false, method: 'none', failed: true, ...coverage(cfg) });
        if (keep) nextStates.push(keep);
      };
      if (stored instanceof InvalidStateEntry) {
        // Never written back: the entry stays as it is until someone fixes or removes it (or accepts).
        if (!accepted.has(key)) {
          fail('state', stored.message, undefined);
          continue;
        }
      }
      const prevState = stored instanceof InvalidStateEntry ? undefined : stored;
      if (!row || row.oid === null) {
        fail('missing-object', `table ${key} does not exist (or is not a table)`, prevState);
        continue;
      }
      if (row.can_select !== true) {
        fail('permission-denied', `the checker's role has no SELECT privilege on ${key}`, prevState);
        continue;
      }
      if (row.row_security === true) {
        fail(
          'row-security',
          `could not check: rows of ${key} are hidden from this role by row-level security (relrowsecurity is on and the role has no BYPASSRLS); a count would miss them. Give the checker's role BYPASSRLS, or exempt it with a policy`,
          prevState,
        );
        continue;
      }
      const obs = observe(row);
      const isAccepted = accepted.has(key);
      const checked = await guardedLazily(`reading ${key}`, (tableQuery) =>
        checkTable({
          cfg,
          key,
          prev: prevState,
          obs,
          accepted: isAccepted,
          now,
          scheduleMinutes: plan.scheduleMinutes,
          exactEveryMinutes: plan.exactEveryMinutes,
          query: tableQuery,
          counted: counted.get(key),
        }),
      );
      if (checked instanceof CheckFailedError) {
        fail(checked.kind, checked.message, prevState);
        continue;
      }
      results.push(...checked.results);
      if (checked.read?.kind === 'exact') exactCounts.push({ key, reason: checked.read.text });
      if (checked.read?.kind === 'audit') audited.push({ key, range: checked.read.text });
      const fp = fingerprints.get(obs.oid);
      let schemaChanged: 0 | 1 | undefined;
      let fingerprint = isAccepted ? undefined : prevState?.fingerprint;
      if (cfg.trackSchema && fp) {
        const s = judgeSchema(key, fingerprint, fp);
        results.push(s.result);
        schemaChanged = s.changed ? 1 : 0;
        if (!s.changed) fingerprint = fp;
      }
      tables.push({ ...checked.report, key, schemaChanged, ...coverage(cfg) });
      if (checked.state) {
        const { fingerprint: _f, ...rest } = checked.state;
        nextStates.push({ ...rest, ...(fingerprint ? { fingerprint } : {}) });
      }
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

function rulesOf(cfg: TableConfig): RuleName[] {
  const rules: RuleName[] = [];
  if (cfg.minRows !== undefined) rules.push('minRows');
  if (cfg.noDecrease) rules.push('noDecrease');
  if (cfg.appendOnly) rules.push('appendOnly');
  if (cfg.trackSchema) rules.push('schema');
  return rules.length > 0 ? rules : ['access'];
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

/** Which per-run aggregates cover a table (see metricData): from its config, whether or not it was checked. */
function coverage(cfg: { noDecrease?: boolean; appendOnly?: boolean; trackSchema?: boolean }): {
  guarded: boolean;
  tracked: boolean;
} {
  return { guarded: Boolean(cfg.noDecrease || cfg.appendOnly), tracked: Boolean(cfg.trackSchema) };
}
