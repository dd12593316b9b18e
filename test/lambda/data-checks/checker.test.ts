import type { Client } from 'pg';
import { checksSchema } from '../../../lib/config/sections/checks';
import type { ChecksConfig } from '../../../lib/config/schema';
import { runChecks, type RunReport } from '../../../lambda/data-checks/checker';
import { connect, type ConnectionSettings } from '../../../lambda/data-checks/connection';
import { checkDatabase } from '../../../lambda/data-checks/run';
import { MemoryStateStore } from '../../../lambda/data-checks/state-store';
import { createTestDatabase, type TestDatabase } from '../../support/pg';

/**
 * The checker against the real PostgreSQL of the test harness. Every write goes through `write()`, which
 * forces the writing session to flush its statistics (pg_stat_force_next_flush), as a session does within
 * about a second of going idle.
 */
let db: TestDatabase;
let writer: Client;
let checker: Client;

async function write(...statements: string[]): Promise<void> {
  for (const s of statements) await writer.query(s);
  await writer.query('SELECT pg_stat_force_next_flush()');
}

function plan(input: unknown): ChecksConfig {
  return checksSchema.parse(input);
}

const BASE_PLAN = {
  tables: [
    { table: 'games', minRows: 100, appendOnly: true },
    { table: 'events', noDecrease: true },
  ],
};

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    host: String(db.config.host),
    port: Number(db.config.port),
    database: db.name,
    user: String(db.config.user),
    sslMode: 'disable',
    statementTimeoutMs: 5000,
    lockTimeoutMs: 1000,
    ...overrides,
  };
}

const result = (r: RunReport, target: string, rule: string) =>
  r.results.find((x) => x.target === target && x.rule === rule);
const table = (r: RunReport, key: string) => r.tables.find((t) => t.key === key);

async function resetTables(): Promise<void> {
  await write(
    'DROP TABLE IF EXISTS games, events, snapshots',
    'CREATE TABLE games (game_id int PRIMARY KEY, season int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
    'INSERT INTO games (game_id, season) SELECT g, 2000 + g % 20 FROM generate_series(1, 120) g',
    'CREATE TABLE events (id bigint PRIMARY KEY, game_id int, kind text)',
    "INSERT INTO events SELECT g, g % 120 + 1, 'shot' FROM generate_series(1, 500) g",
  );
}

beforeAll(async () => {
  db = await createTestDatabase('checks');
  writer = await db.connect();
  checker = await connect(settings());
});

afterAll(async () => {
  await checker.end();
  await db.drop();
});

describe('the sweep', () => {
  let store: MemoryStateStore;
  const run = (p: unknown = BASE_PLAN, accept?: string[]) =>
    runChecks({ client: checker, plan: plan(p), store, accept });

  beforeEach(async () => {
    await resetTables();
    store = new MemoryStateStore();
  });

  it('takes an exact baseline on the first run, then proves unchanged tables by counters alone', async () => {
    const first = await run();
    expect(first.status).toBe('ok');
    expect(first.exactCounts.map((c) => c.key).sort()).toEqual(['public.events', 'public.games']);
    expect(table(first, 'public.games')).toMatchObject({ rowCount: 120, rowCountExact: true });
    expect(result(first, 'public.games', 'appendOnly')?.status).toBe('baseline');

    const second = await run();
    expect(second.status).toBe('ok');
    expect(second.exactCounts).toEqual([]);
    expect(table(second, 'public.games')).toMatchObject({ method: 'counters', rowsLost: 0 });
    expect(result(second, 'public.games', 'minRows')).toMatchObject({ status: 'ok', value: '120' });
  });

  it('does not count a table that only received inserts, and reports the estimate', async () => {
    await run();
    await write('INSERT INTO games (game_id, season) SELECT g, 2024 FROM generate_series(121, 130) g');
    const r = await run();
    expect(r.exactCounts).toEqual([]);
    expect(table(r, 'public.games')).toMatchObject({ rowCount: 130, rowCountExact: false, rowsLost: 0 });
  });

  it('detects a single-row DELETE in one run, keeps reporting it until accepted', async () => {
    await run();
    await write('DELETE FROM games WHERE game_id = 7');
    const r = await run();
    expect(r.status).toBe('violation');
    expect(r.exactCounts).toEqual([{ key: 'public.games', reason: '1 delete(s) counted' }]);
    expect(result(r, 'public.games', 'appendOnly')).toMatchObject({
      status: 'violation',
      value: '1 row deleted',
    });
    expect(result(r, 'public.games', 'noDecrease')).toMatchObject({
      status: 'violation',
      value: '1 row lost',
    });
    expect(table(r, 'public.games')).toMatchObject({ rowsLost: 1, unverified: 0, rowCount: 119 });
    expect(result(r, 'public.games', 'noDecrease')?.detail).toMatch(/^game_id 7: 1 row lost/);

    const again = await run();
    expect(again.status).toBe('violation');
    expect(again.exactCounts).toEqual([]);
    expect(table(again, 'public.games')?.rowsLost).toBe(1);

    const accepted = await run(BASE_PLAN, ['public.games']);
    expect(accepted.status).toBe('ok');
    expect(table(accepted, 'public.games')?.rowsLost).toBe(0);
  });

  it('a delete whose statistics are still in flight is reported one run later, never skipped', async () => {
    await run();
    // The forced flush just happened, so the session defers the DELETE's statistics (up to ~10 s idle).
    await write('SELECT 1');
    await writer.query('DELETE FROM games WHERE game_id = 99');
    const early = await run();
    expect(early.status).not.toBe('error');
    expect(table(early, 'public.games')?.rowsLost ?? 0).toBeLessThanOrEqual(1);
    await write('SELECT 1'); // the session flushes
    const late = await run();
    expect(table(late, 'public.games')).toMatchObject({ rowsLost: 1 });
    expect(late.status).toBe('violation');
  });

  it('counts a deleted row replaced by a new one as lost, though the count is unchanged', async () => {
    await run();
    await write(
      'BEGIN',
      'DELETE FROM games WHERE game_id = 3',
      'INSERT INTO games (game_id, season) VALUES (1003, 2024)',
      'COMMIT',
    );
    const r = await run();
    expect(table(r, 'public.games')).toMatchObject({ rowCount: 120, rowsLost: 1 });
    expect(result(r, 'public.games', 'appendOnly')?.status).toBe('violation');
  });

  it('does not page for a rolled-back delete, nor for a rolled-back insert and delete', async () => {
    await run();
    await write('BEGIN', 'DELETE FROM games WHERE game_id < 10', 'ROLLBACK');
    await write(
      'BEGIN',
      'INSERT INTO games (game_id, season) VALUES (2000, 2024)',
      'DELETE FROM games WHERE game_id = 11',
      'ROLLBACK',
    );
    const r = await run();
    expect(r.exactCounts.map((c) => c.key)).toEqual(['public.games']);
    expect(r.status).toBe('ok');
    expect(table(r, 'public.games')).toMatchObject({ rowsLost: 0, unverified: 0, rowCount: 120 });
  });

  it('finds a committed delete hidden among rolled-back inserts', async () => {
    await run();
    await write('BEGIN', 'INSERT INTO games (game_id, season) VALUES (3000, 2024)', 'ROLLBACK');
    await write('DELETE FROM games WHERE game_id = 50');
    const r = await run();
    expect(table(r, 'public.games')).toMatchObject({ rowsLost: 1 });
  });

  it('detects a TRUNCATE, which n_tup_del does not count, by the new relfilenode', async () => {
    await run();
    await write('TRUNCATE events');
    const r = await run();
    expect(r.exactCounts).toEqual([
      { key: 'public.events', reason: 'new relfilenode (TRUNCATE or rewrite)' },
    ]);
    expect(result(r, 'public.events', 'noDecrease')).toMatchObject({
      status: 'violation',
      value: '500 rows lost',
    });
  });

  it('detects a TRUNCATE hidden by reloading as many rows with new keys, in one run, by key range', async () => {
    await run();
    await write(
      'BEGIN',
      'TRUNCATE games',
      'INSERT INTO games (game_id, season) SELECT g, 1 FROM generate_series(1001, 1120) g',
      'COMMIT',
    );
    const r = await run();
    expect(table(r, 'public.games')).toMatchObject({ rowsLost: 120, rowCount: 120 });
    expect(result(r, 'public.games', 'appendOnly')).toMatchObject({
      status: 'violation',
      value: '120 rows deleted',
    });
    expect(result(r, 'public.games', 'appendOnly')?.detail).toMatch(/game_id 1-120: 120 rows lost/);
    expect(r.exactCounts).toContainEqual({
      key: 'public.games',
      reason: 'new relfilenode (TRUNCATE or rewrite)',
    });
  });

  it('does not page for VACUUM FULL, which also gives a new relfilenode', async () => {
    await run();
    await write('VACUUM FULL events');
    const r = await run();
    expect(r.exactCounts.map((c) => c.key)).toEqual(['public.events']);
    expect(result(r, 'public.events', 'noDecrease')?.status).toBe('ok');
  });

  it('falls back to exact counts after pg_stat_reset(), and still finds a loss across the reset', async () => {
    await run();
    await write('SELECT pg_stat_reset()');
    const clean = await run();
    expect(clean.exactCounts.map((c) => c.reason)).toEqual([
      "statistics reset (the table's counters went back)",
      "statistics reset (the table's counters went back)",
    ]);
    expect(clean.status).toBe('ok');

    await write('DELETE FROM events WHERE id <= 2', 'SELECT pg_stat_reset()');
    const lossy = await run();
    expect(result(lossy, 'public.events', 'noDecrease')).toMatchObject({
      status: 'violation',
      value: '2 rows lost',
    });
  });

  it('falls back to exact counts after a single table’s counters are reset', async () => {
    await run();
    await write("SELECT pg_stat_reset_single_table_counters('games'::regclass)");
    const r = await run();
    expect(r.exactCounts.map((c) => c.key)).toContain('public.games');
    expect(table(r, 'public.games')?.rowsLost).toBe(0);
  });

  it('a keyed table: a delete hidden by inserts across a statistics reset is found exactly', async () => {
    await run();
    await write(
      'DELETE FROM games WHERE game_id = 1',
      'INSERT INTO games (game_id, season) VALUES (5000, 1), (5001, 1)',
      'SELECT pg_stat_reset()',
    );
    const r = await run();
    expect(r.status).toBe('violation');
    expect(table(r, 'public.games')).toMatchObject({ rowsLost: 1, rowCount: 121, unverified: 0 });
    expect(result(r, 'public.games', 'appendOnly')?.detail).toMatch(/game_id 1: 1 row lost/);
  });

  it('a table without a usable key: "could not verify" stays open (exit 2) until accepted, never re-baselined away', async () => {
    await write(
      'DROP TABLE IF EXISTS keyless',
      'CREATE TABLE keyless (v int)',
      'INSERT INTO keyless SELECT g FROM generate_series(1, 50) g',
    );
    const P = { tables: [{ table: 'keyless' }] };
    const first = await run(P);
    expect(result(first, 'public.keyless', 'access')).toMatchObject({
      status: 'warning',
      value: 'no usable key',
    });
    await write('DELETE FROM keyless WHERE v = 1', 'INSERT INTO keyless VALUES (100), (101)');
    const r = await run(P);
    expect(r.status).toBe('error');
    expect(result(r, 'public.keyless', 'noDecrease')).toMatchObject({
      status: 'error',
      value: 'could not verify',
      failure: 'unverified',
    });
    expect(table(r, 'public.keyless')).toMatchObject({ unverified: 1, rowsLost: 0 });
    // Still open on the next runs, though nothing else happens.
    for (let i = 0; i < 2; i++) {
      const again = await run(P);
      expect(again.status).toBe('error');
      expect(result(again, 'public.keyless', 'noDecrease')?.detail).toMatch(/could not verify since/);
    }
    const accepted = await run(P, ['public.keyless']);
    expect(accepted.status).toBe('ok');
    expect((await run(P)).status).toBe('ok');
    // A plain fall of the count is still a certain loss.
    await write('DELETE FROM keyless WHERE v < 10');
    expect(table(await run(P), 'public.keyless')?.rowsLost).toBe(8);
  });

  it('checks the floor: passes above it, fails below it with an exact count', async () => {
    const above = await run({ tables: [{ table: 'games', minRows: 120 }] });
    expect(result(above, 'public.games', 'minRows')).toMatchObject({ status: 'ok', value: '120' });
    const below = await run({ tables: [{ table: 'games', minRows: 121 }] });
    expect(result(below, 'public.games', 'minRows')).toMatchObject({
      status: 'violation',
      value: '120',
      threshold: '>= 121',
    });
    expect(below.exactCounts.map((c) => c.reason)).toEqual(['last exact count below the floor']);
  });

  it('fingerprints columns and primary key, and reports a dropped or retyped column until accepted', async () => {
    await run();
    expect(result(await run(), 'public.games', 'schema')?.status).toBe('ok');
    await write('ALTER TABLE events DROP COLUMN kind');
    const dropped = await run();
    expect(result(dropped, 'public.events', 'schema')).toMatchObject({ status: 'violation' });
    expect(result(dropped, 'public.events', 'schema')?.detail).toMatch(/column kind dropped/);
    expect(table(dropped, 'public.events')?.schemaChanged).toBe(1);
    expect(result(await run(), 'public.events', 'schema')?.status).toBe('violation');
    expect(result(await run(BASE_PLAN, ['public.events']), 'public.events', 'schema')?.status).toBe(
      'baseline',
    );

    await write(
      'ALTER TABLE games ALTER COLUMN season TYPE bigint',
      'ALTER TABLE games ALTER COLUMN season DROP NOT NULL',
    );
    const retyped = await run();
    expect(result(retyped, 'public.games', 'schema')?.detail).toMatch(
      /column season retyped integer -> bigint; column season now nullable/,
    );
  });

  it('reports a changed primary key', async () => {
    await run();
    await write(
      'ALTER TABLE games DROP CONSTRAINT games_pkey',
      'ALTER TABLE games ADD PRIMARY KEY (game_id, season)',
    );
    const r = await run();
    expect(result(r, 'public.games', 'schema')?.detail).toMatch(
      /primary key \(game_id\) -> \(game_id, season\)/,
    );
  });
});

describe('freshness', () => {
  const store = new MemoryStateStore();
  const fresh = (minutesOld: number | null) =>
    write(
      'DROP TABLE IF EXISTS snapshots',
      'CREATE TABLE snapshots (id int PRIMARY KEY, created_at timestamptz)',
      'CREATE INDEX ON snapshots (created_at)',
      ...(minutesOld === null
        ? []
        : [`INSERT INTO snapshots VALUES (1, now() - interval '${minutesOld} minutes')`]),
    );
  const run = () =>
    runChecks({
      client: checker,
      store,
      plan: plan({
        freshness: [
          { table: 'snapshots', column: 'created_at', warnAfterMinutes: 60, errorAfterMinutes: 120 },
        ],
      }),
    });

  it.each([
    [5, 'ok'],
    [90, 'warning'],
    [180, 'violation'],
  ])('a newest row %i minutes old is %s', async (age, status) => {
    await fresh(age);
    const r = await run();
    expect(result(r, 'public.snapshots', 'freshness')?.status).toBe(status);
    expect(r.freshness[0]?.ageSeconds).toBeGreaterThanOrEqual(age * 60);
    expect(r.freshness[0]?.ageSeconds).toBeLessThan(age * 60 + 30);
  });

  it('warns when no index leads with the column (MAX() would read the whole table every run)', async () => {
    await fresh(5);
    await write('DROP INDEX snapshots_created_at_idx');
    const r = await run();
    expect(r.results.filter((x) => x.rule === 'freshness').map((x) => `${x.value}:${x.status}`)).toEqual([
      'no index:warning',
      expect.stringMatching(/^\dm\d*s?:ok$/),
    ]);
    expect(r.status).toBe('ok');
  });

  it('an empty table is stale', async () => {
    await fresh(null);
    expect(result(await run(), 'public.snapshots', 'freshness')).toMatchObject({
      status: 'violation',
      value: 'no rows',
    });
  });
});

describe('custom checks', () => {
  const run = (custom: unknown[]) =>
    runChecks({ client: checker, store: new MemoryStateStore(), plan: plan({ custom }) });
  const check = (sql: string, bounds: object = { max: 0 }) => ({
    name: 'orphans',
    sql,
    severity: 'critical',
    description: 'events whose game is missing',
    ...bounds,
  });

  beforeAll(resetTables);

  it('passes within bounds and fails outside them', async () => {
    const inside = await run([
      check(
        'SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM games g WHERE g.game_id = e.game_id)',
      ),
    ]);
    expect(inside.status).toBe('ok');
    expect(inside.custom).toEqual([{ name: 'orphans', value: 0, failed: false }]);
    const outside = await run([check('SELECT count(*) FROM events', { min: 0, max: 499 })]);
    expect(outside.status).toBe('violation');
    expect(result(outside, 'orphans', 'custom')).toMatchObject({
      value: '500',
      threshold: '>= 0 and <= 499',
    });
  });

  it('a warning-severity check warns without failing the run', async () => {
    const r = await run([{ ...check('SELECT 5'), severity: 'warning' }]);
    expect(r.status).toBe('ok');
    expect(result(r, 'orphans', 'custom')?.status).toBe('warning');
  });

  it('runs read-only: a write is refused and reported as could-not-check', async () => {
    const r = await run([check('WITH d AS (DELETE FROM games RETURNING 1) SELECT count(*) FROM d')]);
    expect(r.status).toBe('error');
    expect(result(r, 'orphans', 'custom')?.detail).toMatch(/read-only transaction/);
    expect((await db.query('SELECT count(*)::int AS n FROM games')).rows[0].n).toBe(120);
  });

  it('refuses a result that is not one number', async () => {
    const r = await run([check("SELECT 'abc'"), { ...check('SELECT 1, 2'), name: 'two' }]);
    expect(r.results.map((x) => x.status)).toEqual(['error', 'error']);
  });
});

describe('the session the checker runs in', () => {
  it('is read-only, with statement and lock timeouts and its application_name', async () => {
    const probe = (name: string, sql: string, expected: number) => ({
      name,
      sql,
      min: expected,
      max: expected,
      description: name,
    });
    const r = await checkDatabase(
      settings({ statementTimeoutMs: 7000, lockTimeoutMs: 3000 }),
      plan({
        custom: [
          probe('read-only', "SELECT (current_setting('transaction_read_only') = 'on')::int", 1),
          probe(
            'statement-timeout',
            "SELECT extract(epoch FROM current_setting('statement_timeout')::interval)",
            7,
          ),
          probe('lock-timeout', "SELECT extract(epoch FROM current_setting('lock_timeout')::interval)", 3),
          probe(
            'application-name',
            "SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND application_name = 'pipeline-guardrails-checks'",
            1,
          ),
          probe('isolation', "SELECT (current_setting('transaction_isolation') = 'repeatable read')::int", 1),
        ],
      }),
      new MemoryStateStore(),
    );
    expect(r.results.map((x) => `${x.target}=${x.value}:${x.status}`)).toEqual([
      'read-only=1:ok',
      'statement-timeout=7:ok',
      'lock-timeout=3:ok',
      'application-name=1:ok',
      'isolation=1:ok',
    ]);
  });
});

describe('never green when it did not look', () => {
  const PLAN = plan(BASE_PLAN);
  const attempt = (s: Partial<ConnectionSettings>, p: ChecksConfig = PLAN) =>
    checkDatabase(settings(s), p, new MemoryStateStore());

  beforeAll(resetTables);

  it('database unreachable (nothing listens on the port)', async () => {
    const r = await attempt({ port: 1, host: '127.0.0.1' });
    expect(r.status).toBe('error');
    expect(r.failures[0]?.kind).toBe('unreachable');
  });

  it('authentication: a role that may not log in; missing-object: a database that does not exist', async () => {
    await db.query('DROP ROLE IF EXISTS guardrails_nologin');
    await db.query('CREATE ROLE guardrails_nologin NOLOGIN');
    const role = await attempt({ user: 'guardrails_nologin' });
    expect(role.failures[0]).toMatchObject({ kind: 'authentication' });
    expect(role.failures[0]?.message).toMatch(/not permitted to log in/);
    const database = await attempt({ database: 'no_such_database' });
    expect(database.failures[0]).toMatchObject({ kind: 'missing-object' });
  });

  it('statement timeout', async () => {
    const slow = plan({
      custom: [{ name: 'slow', sql: 'SELECT 1 FROM pg_sleep(2)', max: 5, description: 'sleeps' }],
    });
    const r = await attempt({ statementTimeoutMs: 200 }, slow);
    expect(r.status).toBe('error');
    expect(result(r, 'slow', 'custom')).toMatchObject({ status: 'error', failure: 'timeout' });
  });

  it('lock timeout behind an ALTER TABLE', async () => {
    const blocker = await db.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    try {
      const r = await attempt({ lockTimeoutMs: 200 }, plan({ tables: [{ table: 'events' }] }));
      expect(r.status).toBe('error');
      expect(result(r, 'public.events', 'noDecrease')).toMatchObject({ status: 'error', failure: 'timeout' });
    } finally {
      await blocker.query('ROLLBACK');
    }
  });

  it('missing table and missing column', async () => {
    const r = await attempt(
      {},
      plan({
        tables: [{ table: 'no_such_table' }, { table: 'games' }],
        freshness: [{ table: 'games', column: 'no_such_column', warnAfterMinutes: 1, errorAfterMinutes: 2 }],
      }),
    );
    expect(r.status).toBe('error');
    expect(result(r, 'public.no_such_table', 'noDecrease')).toMatchObject({
      status: 'error',
      failure: 'missing-object',
    });
    expect(result(r, 'public.games', 'freshness')).toMatchObject({
      status: 'error',
      failure: 'missing-object',
    });
    expect(result(r, 'public.games', 'noDecrease')?.status).toBe('baseline');
  });

  it('permission denied, even when the counters alone would have sufficed', async () => {
    await db.query('DROP ROLE IF EXISTS guardrails_reader');
    await db.query('CREATE ROLE guardrails_reader LOGIN');
    await db.query('GRANT SELECT ON games, events TO guardrails_reader');
    const store = new MemoryStateStore();
    const asReader = () => checkDatabase(settings({ user: 'guardrails_reader' }), PLAN, store);
    expect((await asReader()).status).toBe('ok');
    await db.query('REVOKE SELECT ON events FROM guardrails_reader');
    const r = await asReader();
    expect(r.status).toBe('error');
    expect(result(r, 'public.events', 'noDecrease')).toMatchObject({
      status: 'error',
      failure: 'permission-denied',
    });
    expect(result(r, 'public.games', 'appendOnly')?.status).toBe('ok');
    await db.query('REVOKE ALL ON games FROM guardrails_reader');
    await db.query('DROP ROLE guardrails_reader');
  });
});

describe('hostile identifiers', () => {
  it('quotes every identifier: a table literally named with a quote and a semicolon is checked, nothing else runs', async () => {
    await write(
      'CREATE SCHEMA IF NOT EXISTS "odd""schema"',
      'CREATE TABLE "odd""schema"."we""ird; DROP TABLE games; --" (id int PRIMARY KEY, "created""at" timestamptz)',
      'INSERT INTO "odd""schema"."we""ird; DROP TABLE games; --" VALUES (1, now()), (2, now())',
    );
    // Bypasses config validation on purpose: the checker must be safe on its own.
    const hostile = {
      ...plan({}),
      tables: [
        {
          schemaName: 'odd"schema',
          table: 'we"ird; DROP TABLE games; --',
          noDecrease: true,
          appendOnly: true,
          trackSchema: true,
        },
      ],
      freshness: [
        {
          schemaName: 'odd"schema',
          table: 'we"ird; DROP TABLE games; --',
          column: 'created"at',
          warnAfterMinutes: 5,
          errorAfterMinutes: 10,
        },
      ],
    } as ChecksConfig;
    const r = await runChecks({ client: checker, plan: hostile, store: new MemoryStateStore() });
    expect(r.status).toBe('ok');
    expect(r.tables[0]).toMatchObject({ key: 'odd"schema.we"ird; DROP TABLE games; --', rowCount: 2 });
    expect(
      (await db.query("SELECT to_regclass('public.games') IS NOT NULL AS present")).rows[0].present,
    ).toBe(true);
  });

  it('config refuses such names before they get anywhere', () => {
    const bad = checksSchema.safeParse({ tables: [{ table: 'we"ird; DROP TABLE games; --' }] });
    expect(bad.success).toBe(false);
    expect(checksSchema.safeParse({ tables: [{ table: 'we_ird' }] }).success).toBe(true);
  });
});
