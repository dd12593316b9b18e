import type { Client } from 'pg';
import type { ConnectionSettings } from '../../../lambda/data-checks/connection';
import { compareRelations } from '../../../lambda/parity/engine';
import type { ParityResult } from '../../../lambda/parity/result';
import { runParity } from '../../../lambda/parity/run';
import type { ParitySpec } from '../../../lambda/parity/spec';
import { createTestDatabase, type TestDatabase } from '../../support/pg';

/**
 * The comparison engine against the real PostgreSQL of the test harness: blue in schema `monolith`, green
 * in schema `unified`, each scenario starting from two identical copies.
 */
let db: TestDatabase;
let a: Client;
let b: Client;

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    host: String(db.config.host),
    port: Number(db.config.port),
    database: db.name,
    user: String(db.config.user),
    sslMode: 'disable',
    statementTimeoutMs: 10_000,
    lockTimeoutMs: 1000,
    ...overrides,
  };
}

const SPEC: ParitySpec = {
  blue: { schemaName: 'monolith', table: 'box_scores' },
  green: { schemaName: 'unified', table: 'box_scores' },
  key: ['id'],
};

async function reset(): Promise<void> {
  await db.query(`
    DROP SCHEMA IF EXISTS monolith CASCADE; DROP SCHEMA IF EXISTS unified CASCADE;
    CREATE SCHEMA monolith; CREATE SCHEMA unified;
    CREATE TABLE monolith.box_scores (
      id bigint PRIMARY KEY, game_id int NOT NULL, player_id int NOT NULL, player text, pts smallint,
      fg_pct numeric(4,3), minutes text, played_at timestamptz NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO monolith.box_scores
      SELECT g, 1000 + g / 10, g % 10, 'player ' || g, (g % 40)::smallint, round((g % 1000) / 1000.0, 3),
             CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 48)::text END,
             timestamptz '2026-11-01 00:00:00+00' + make_interval(mins => g), now()
        FROM generate_series(1, 3000) g;
    CREATE TABLE unified.box_scores (LIKE monolith.box_scores INCLUDING ALL);
    INSERT INTO unified.box_scores SELECT * FROM monolith.box_scores;`);
}

async function compare(
  spec: Partial<ParitySpec> = {},
  clients: [Client] | [Client, Client] = [a, b],
): Promise<ParityResult> {
  return compareRelations({ clients, spec: { ...SPEC, ...spec } });
}

beforeAll(async () => {
  db = await createTestDatabase('parity');
  a = await db.connect();
  b = await db.connect();
});

afterAll(async () => {
  await db.drop();
});

beforeEach(reset);

describe('parity engine', () => {
  it('reports identical copies as identical, every row compared', async () => {
    const r = await compare();
    expect(r).toMatchObject({
      status: 'identical',
      rows: { blue: 3000, green: 3000 },
      identical: 3000,
      onlyInBlue: 0,
      onlyInGreen: 0,
      changed: 0,
      differences: 0,
      duplicateKeys: { blue: 0, green: 0 },
      nullKeys: { blue: 0, green: 0 },
      comparedShare: 1,
      algorithm: 'bucket-range',
      keyUniqueByIndex: { blue: true, green: true },
    });
    expect(r.samples).toEqual([]);
  });

  it('finds one changed value and shows the column side by side', async () => {
    await db.query('UPDATE unified.box_scores SET pts = pts + 1 WHERE id = 1234');
    const r = await compare();
    expect(r).toMatchObject({
      status: 'different',
      changed: 1,
      identical: 2999,
      differences: 1,
      changedByColumn: { pts: 1 },
    });
    expect(r.samples).toEqual([
      { kind: 'changed', key: { id: '1234' }, columns: [{ column: 'pts', blue: '34', green: '35' }] },
    ]);
  });

  it('finds a row missing from green', async () => {
    await db.query('DELETE FROM unified.box_scores WHERE id = 77');
    const r = await compare();
    expect(r).toMatchObject({
      status: 'different',
      onlyInBlue: 1,
      onlyInGreen: 0,
      changed: 0,
      rows: { blue: 3000, green: 2999 },
    });
    expect(r.samples[0]).toMatchObject({
      kind: 'onlyInBlue',
      key: { id: '77' },
      values: { player: 'player 77' },
    });
  });

  it('finds an extra row in green', async () => {
    await db.query("INSERT INTO unified.box_scores VALUES (5000, 1, 1, 'ghost', 1, 0.5, '12', now(), now())");
    const r = await compare();
    expect(r).toMatchObject({ status: 'different', onlyInGreen: 1, onlyInBlue: 0, identical: 3000 });
    expect(r.samples[0]).toMatchObject({ kind: 'onlyInGreen', key: { id: '5000' } });
  });

  it('finds a value set to NULL (NULL is not the empty string, nor a missing value)', async () => {
    await db.query("UPDATE monolith.box_scores SET minutes = '' WHERE id = 10");
    await db.query('UPDATE unified.box_scores SET minutes = NULL WHERE id = 10');
    const r = await compare();
    expect(r).toMatchObject({ status: 'different', changed: 1, changedByColumn: { minutes: 1 } });
    expect(r.samples[0]).toMatchObject({ columns: [{ column: 'minutes', blue: '', green: null }] });
  });

  it('reports duplicate keys instead of crashing when the key is not unique in the data', async () => {
    await db.query('ALTER TABLE unified.box_scores DROP CONSTRAINT box_scores_pkey');
    await db.query('INSERT INTO unified.box_scores SELECT * FROM unified.box_scores WHERE id IN (5, 6)');
    const r = await compare();
    expect(r).toMatchObject({
      status: 'different',
      duplicateKeys: { blue: 0, green: 2 },
      keyUniqueByIndex: { blue: true, green: false },
      onlyInBlue: 0,
      onlyInGreen: 0,
      changed: 0,
      differences: 2,
    });
    expect(r.samples.filter((s) => s.kind === 'duplicateKey')).toEqual([
      { kind: 'duplicateKey', side: 'green', key: { id: '5' }, count: 2 },
      { kind: 'duplicateKey', side: 'green', key: { id: '6' }, count: 2 },
    ]);
  });

  it('compares on a composite business key, with surrogate ids that differ between the pipelines', async () => {
    // Green numbers its rows its own way; game_id + player_id is the business key.
    await db.query('UPDATE unified.box_scores SET id = id + 1000000');
    await db.query(
      'CREATE UNIQUE INDEX ON monolith.box_scores (game_id, player_id); CREATE UNIQUE INDEX ON unified.box_scores (game_id, player_id)',
    );
    const clean = await compare({ key: ['game_id', 'player_id'], exclude: ['id'] });
    expect(clean).toMatchObject({
      status: 'identical',
      identical: 3000,
      algorithm: 'bucket-hash',
      keyUniqueByIndex: { blue: true, green: true },
    });

    await db.query('UPDATE unified.box_scores SET player = $1 WHERE game_id = 1100 AND player_id = 3', [
      'renamed',
    ]);
    const changed = await compare({ key: ['game_id', 'player_id'], exclude: ['id'] });
    expect(changed).toMatchObject({ status: 'different', changed: 1, identical: 2999 });
    expect(changed.samples[0]).toMatchObject({ key: { game_id: '1100', player_id: '3' } });
  });

  it('treats numerics by value and integers across widths as equal, and timestamps by instant', async () => {
    await db.query(`
      DROP TABLE unified.box_scores;
      CREATE TABLE unified.box_scores (
        id int PRIMARY KEY, game_id bigint NOT NULL, player_id numeric NOT NULL, player varchar(40), pts int,
        fg_pct double precision, minutes text, played_at timestamp NOT NULL, loaded_at timestamptz NOT NULL);
      INSERT INTO unified.box_scores
        SELECT id, game_id, player_id::numeric(10,2), player, pts, fg_pct::float8, minutes,
               played_at AT TIME ZONE 'UTC', loaded_at FROM monolith.box_scores;`);
    // 0.500 (numeric(4,3)) and 0.5 (float8), 7 and 7.00, timestamptz and its UTC wall time, in another session zone.
    await a.query("SET TimeZone = 'America/New_York'");
    const r = await compare();
    await a.query('RESET TimeZone');
    expect(r).toMatchObject({ status: 'identical', identical: 3000 });
  });

  it('ignores excluded volatile columns, and finds their differences when they are not excluded', async () => {
    await db.query("UPDATE unified.box_scores SET loaded_at = loaded_at + interval '1 hour'");
    expect(await compare({ exclude: ['loaded_at'] })).toMatchObject({
      status: 'identical',
      excluded: ['loaded_at'],
    });
    expect(await compare()).toMatchObject({
      status: 'different',
      changed: 3000,
      changedByColumn: { loaded_at: 3000 },
    });
  });

  it('accepts numeric differences within a column tolerance and reports those beyond it', async () => {
    await db.query('UPDATE unified.box_scores SET fg_pct = fg_pct + 0.001 WHERE id <= 100');
    expect(await compare({ tolerance: { fg_pct: 0.001 } })).toMatchObject({
      status: 'identical',
      identical: 3000,
    });
    await db.query('UPDATE unified.box_scores SET fg_pct = fg_pct + 0.01 WHERE id = 50');
    const r = await compare({ tolerance: { fg_pct: 0.001 } });
    expect(r).toMatchObject({ status: 'different', changed: 1, changedByColumn: { fg_pct: 1 } });
  });

  it('compares only the window, and leaves rows to settle when green trails by less than settleMinutes', async () => {
    await db.query(`UPDATE monolith.box_scores SET played_at = now() - make_interval(mins => 3000 - id::int);
                    UPDATE unified.box_scores u SET played_at = m.played_at FROM monolith.box_scores m WHERE m.id = u.id`);
    // Outside a 24-hour window (ids below ~1560): a difference that does not count.
    await db.query('UPDATE unified.box_scores SET pts = 0 WHERE id = 100');
    // Green has not written its last 5 minutes yet.
    await db.query('DELETE FROM unified.box_scores WHERE id > 2995');
    const r = await compare({ window: { column: 'played_at', hours: 24, settleMinutes: 10 } });
    expect(r).toMatchObject({
      status: 'identical',
      window: { column: 'played_at', hours: 24, settling: { blue: 5, green: 0 } },
    });
    expect(r.rows.blue).toBe(r.rows.green);
    expect(r.rows.blue).toBeGreaterThan(1400);
    expect(r.rows.blue).toBeLessThan(1450);
    expect(r.comparedShare).toBeGreaterThan(0.99);
    expect(r.comparedShare).toBeLessThan(1);

    // Trailing by more than settleMinutes is not excused.
    const strict = await compare({ window: { column: 'played_at', hours: 24, settleMinutes: 2 } });
    expect(strict).toMatchObject({ status: 'different', onlyInBlue: 5, comparedShare: 1 });
  });

  it('finds the same differences with bisection and with one connection', async () => {
    await db.query('UPDATE unified.box_scores SET pts = 99 WHERE id IN (3, 1500, 2999)');
    await db.query('DELETE FROM unified.box_scores WHERE id = 2000');
    const expected = { status: 'different', changed: 3, onlyInBlue: 1, identical: 2996 };
    expect(await compare({ algorithm: 'bisect' })).toMatchObject({ ...expected, algorithm: 'bisect' });
    expect(await compare({}, [a])).toMatchObject(expected);
    expect(await compare({ buckets: 16 })).toMatchObject(expected);
  });

  it('finds differences without an index on the key (one filtered scan per side), bisect falling back to buckets', async () => {
    await db.query('ALTER TABLE unified.box_scores DROP CONSTRAINT box_scores_pkey');
    await db.query("UPDATE unified.box_scores SET player = 'x' WHERE id = 2500");
    const r = await compare({ algorithm: 'bisect' });
    expect(r).toMatchObject({
      status: 'different',
      changed: 1,
      algorithm: 'bucket-range',
      keyUniqueByIndex: { green: false },
    });
    expect(r.samples[0]).toMatchObject({
      key: { id: '2500' },
      columns: [{ column: 'player', blue: 'player 2500', green: 'x' }],
    });
  });

  it('cannot compare a missing table, a missing key column or a column only one side has (error, not a crash)', async () => {
    const missing = await compare({ green: { schemaName: 'unified', table: 'nope' } });
    expect(missing).toMatchObject({ status: 'error', failure: { kind: 'missing-object' } });
    expect(missing.failure?.message).toMatch(/unified\.nope does not exist/);

    const key = await compare({ key: ['game_key'] });
    expect(key).toMatchObject({ status: 'error', failure: { kind: 'missing-object' } });
    expect(key.failure?.message).toMatch(/key column game_key does not exist/);

    await db.query('ALTER TABLE unified.box_scores ADD COLUMN extra int');
    const extra = await compare();
    expect(extra.failure?.message).toMatch(
      /column extra of unified\.box_scores does not exist in monolith\.box_scores/,
    );
    expect(await compare({ exclude: ['extra'] })).toMatchObject({ status: 'identical' });
  });

  it('reports permission denied for a role that cannot read a side', async () => {
    const role = `parity_ro_${process.pid}`;
    await db.query(`DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN;
      GRANT USAGE ON SCHEMA monolith, unified TO ${role}; GRANT SELECT ON monolith.box_scores TO ${role}`);
    try {
      const r = await runParity(settings({ user: role }), SPEC);
      expect(r).toMatchObject({ status: 'error', failure: { kind: 'permission-denied' } });
      await db.query(`GRANT SELECT ON unified.box_scores TO ${role}`);
      expect(await runParity(settings({ user: role }), SPEC)).toMatchObject({ status: 'identical' });
    } finally {
      await db.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  });

  it('quotes hostile identifiers: names with quotes, semicolons and spaces are compared, never executed', async () => {
    await db.query(`
      CREATE SCHEMA "we""ird; drop";
      CREATE TABLE "we""ird; drop"."Box Scores"" --" ("Id; DROP TABLE monolith.box_scores" int PRIMARY KEY, "val""ue" text);
      INSERT INTO "we""ird; drop"."Box Scores"" --" VALUES (1, 'a'), (2, 'b');
      CREATE TABLE unified."Box Scores"" --" (LIKE "we""ird; drop"."Box Scores"" --" INCLUDING ALL);
      INSERT INTO unified."Box Scores"" --" VALUES (1, 'a'), (2, 'c');`);
    const r = await compare({
      blue: { schemaName: 'we"ird; drop', table: 'Box Scores" --' },
      green: { schemaName: 'unified', table: 'Box Scores" --' },
      key: ['Id; DROP TABLE monolith.box_scores'],
    });
    expect(r).toMatchObject({ status: 'different', changed: 1, changedByColumn: { 'val"ue': 1 } });
    expect((await db.query('SELECT count(*)::int AS n FROM monolith.box_scores')).rows[0].n).toBe(3000);
  });

  it('reads both sides in one snapshot while rows are being inserted on both sides', async () => {
    const writer = await db.connect();
    let stop = false;
    let inserted = 0;
    const writing = (async () => {
      for (let id = 10_000; !stop; id++) {
        // Both pipelines write the same row in one transaction: any snapshot sees both or neither.
        await writer.query('BEGIN');
        await writer.query(
          "INSERT INTO monolith.box_scores VALUES ($1, 1, 1, 'live', 1, 0.1, '1', now(), now())",
          [id],
        );
        await writer.query('INSERT INTO unified.box_scores SELECT * FROM monolith.box_scores WHERE id = $1', [
          id,
        ]);
        await writer.query('COMMIT');
        inserted++;
      }
    })();
    try {
      for (let i = 0; i < 5; i++) {
        const r = await compare();
        expect(r).toMatchObject({ status: 'identical', differences: 0 });
        expect(r.rows.blue).toBe(r.rows.green);
      }
    } finally {
      stop = true;
      await writing;
    }
    expect(inserted).toBeGreaterThan(0);
  });

  it('stops at the statement timeout and says so', async () => {
    // A view that takes about 3 s to read (1 ms per row), against a 500 ms statement timeout.
    await db.query(
      'CREATE VIEW unified.slow_box_scores AS SELECT b.* FROM unified.box_scores b, LATERAL (SELECT pg_sleep(0.001 + 0 * b.id)) s',
    );
    const r = await runParity(
      settings({ statementTimeoutMs: 500 }),
      { ...SPEC, green: { schemaName: 'unified', table: 'slow_box_scores' } },
      { connections: 1 },
    );
    expect(r).toMatchObject({ status: 'error', failure: { kind: 'timeout' } });
    expect(r.failure?.message).toMatch(/statement timeout/);
  });
});
