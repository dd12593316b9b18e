import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { checksSchema } from '../../../lib/config/sections/checks';
import { runChecks, type RunReport } from '../../../lambda/data-checks/checker';
import { connect, type ConnectionSettings } from '../../../lambda/data-checks/connection';
import { checkDatabase } from '../../../lambda/data-checks/run';
import { FileStateStore, MemoryStateStore, type StateStore } from '../../../lambda/data-checks/state-store';
import { createTestDatabase, type TestDatabase } from '../../support/pg';

/**
 * Each class of failure of issue 10, against the real server: the verdict must come from exact reads,
 * whatever the statistics counters say (savepoints, EXCEPTION blocks, unflushed statistics of a busy
 * session, resets), concurrent inserts must not hide a delete, and the schema, row security and state
 * entries must be judged for what they are.
 */
let db: TestDatabase;
let writer: Client;
let checker: Client;

const flush = () => writer.query('SELECT pg_stat_force_next_flush()');
async function write(...statements: string[]): Promise<void> {
  for (const s of statements) await writer.query(s);
  await flush();
}

function settings(over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    host: String(db.config.host),
    port: Number(db.config.port),
    database: db.name,
    user: String(db.config.user),
    sslMode: 'disable',
    statementTimeoutMs: 10_000,
    lockTimeoutMs: 2_000,
    ...over,
  };
}

const PLAN = checksSchema.parse({
  scheduleMinutes: 5,
  exactEveryMinutes: 60,
  tables: [
    { table: 'games', appendOnly: true },
    { table: 'events', noDecrease: true },
  ],
});
const t = (r: RunReport, key: string) => r.tables.find((x) => x.key === key);
const res = (r: RunReport, key: string, rule: string) =>
  r.results.find((x) => x.target === key && x.rule === rule);

let store: StateStore;
let clock: Date;
const run = (plan = PLAN, accept?: string[]) =>
  runChecks({ client: checker, plan, store, accept, clock: () => clock });
const tick = (minutes = 5) => (clock = new Date(clock.getTime() + minutes * 60_000));

beforeAll(async () => {
  db = await createTestDatabase('classes');
  writer = await db.connect();
  checker = await connect(settings());
});
afterAll(async () => {
  await checker.end();
  await db.drop();
});
beforeEach(async () => {
  await write(
    'DROP TABLE IF EXISTS games, events CASCADE',
    'CREATE TABLE games (game_id int PRIMARY KEY, season int NOT NULL, note text)',
    'INSERT INTO games SELECT g, 2000 + g % 20 FROM generate_series(1, 200) g',
    'CREATE TABLE events (id bigserial PRIMARY KEY, game_id int, kind text)',
    "INSERT INTO events (game_id, kind) SELECT g % 200 + 1, 'shot' FROM generate_series(1, 1000) g",
  );
  store = new MemoryStateStore();
  clock = new Date('2026-12-01T00:00:00.000Z');
});

describe('1. savepoint rollbacks and EXCEPTION blocks (invisible to xact_rollback)', () => {
  it('a committed delete masked by updates rolled back to a savepoint is found, exactly', async () => {
    await run();
    tick();
    await write(
      'BEGIN',
      'DELETE FROM games WHERE game_id = 42',
      'SAVEPOINT s',
      'UPDATE games SET note = $$x$$ WHERE game_id < 100',
      'ROLLBACK TO SAVEPOINT s',
      'COMMIT',
    );
    const r = await run();
    expect(r.status).toBe('violation');
    expect(t(r, 'public.games')).toMatchObject({ rowsLost: 1, unverified: 0 });
    expect(res(r, 'public.games', 'appendOnly')?.detail).toMatch(/^game_id 42: 1 row lost/);
    tick();
    expect(t(await run(), 'public.games')?.rowsLost).toBe(1); // not forgotten after one run
  });

  it('an insert and a delete rolled back to a savepoint, then ANALYZE: no page', async () => {
    await run();
    tick();
    await write(
      'BEGIN',
      'SAVEPOINT s',
      'INSERT INTO games VALUES (900, 1)',
      'DELETE FROM games WHERE game_id BETWEEN 1 AND 5',
      'ROLLBACK TO SAVEPOINT s',
      'COMMIT',
      'ANALYZE games',
    );
    const r = await run();
    expect(r.exactCounts.map((c) => c.key)).toContain('public.games');
    expect(r.status).toBe('ok');
    expect(t(r, 'public.games')).toMatchObject({ rowsLost: 0, unverified: 0 });
  });

  it('a failed insert caught by an EXCEPTION block, then VACUUM FULL: no page, and none later', async () => {
    await run();
    tick();
    await write(
      `DO $$ BEGIN
         BEGIN
           INSERT INTO games VALUES (901, 1);
           DELETE FROM games WHERE game_id = 7;
           INSERT INTO games VALUES (1, 1); -- duplicate key: the block rolls back
         EXCEPTION WHEN unique_violation THEN NULL;
         END;
       END $$`,
      'VACUUM FULL games',
    );
    const r = await run();
    expect(r.status).toBe('ok');
    expect(t(r, 'public.games')).toMatchObject({ rowsLost: 0, rowCount: 200 });
    tick();
    expect((await run()).status).toBe('ok');
  });

  it('a committed delete inside an EXCEPTION block that rolled back something else is found', async () => {
    await run();
    tick();
    await write(
      `DO $$ BEGIN
         DELETE FROM games WHERE game_id = 9;
         BEGIN
           UPDATE games SET note = 'x';
           RAISE EXCEPTION 'undo the update';
         EXCEPTION WHEN raise_exception THEN NULL;
         END;
       END $$`,
    );
    const r = await run();
    expect(t(r, 'public.games')).toMatchObject({ rowsLost: 1 });
    expect(res(r, 'public.games', 'appendOnly')?.detail).toMatch(/^game_id 9: 1 row lost/);
  });
});

describe('2. statistics a busy session has not flushed', () => {
  it('a second client inserting in a loop hides neither a delete nor causes a false page', async () => {
    const loader = await db.connect();
    let stop = false;
    let inserted = 0;
    const loop = (async () => {
      while (!stop) {
        await loader.query("INSERT INTO events (game_id, kind) VALUES (1, 'live')");
        inserted++;
      }
    })();
    try {
      await run();
      for (let i = 0; i < 3; i++) {
        tick();
        const quiet = await run();
        expect(quiet.status).toBe('ok');
        expect(t(quiet, 'public.events')).toMatchObject({ rowsLost: 0, unverified: 0 });
      }
      await write('DELETE FROM events WHERE id = 500');
      tick();
      const r = await run();
      expect(r.status).toBe('violation');
      expect(t(r, 'public.events')).toMatchObject({ rowsLost: 1, unverified: 0 });
      expect(res(r, 'public.events', 'noDecrease')?.detail).toMatch(/^id 500: 1 row lost/);
      for (let i = 0; i < 2; i++) {
        tick();
        expect(t(await run(), 'public.events')).toMatchObject({ rowsLost: 1, unverified: 0 });
      }
    } finally {
      stop = true;
      await loop;
    }
    expect(inserted).toBeGreaterThan(20);
  });

  it('a procedure that deletes, commits and keeps running: found by the rotating audit within exactEveryMinutes', async () => {
    await write(
      `CREATE OR REPLACE PROCEDURE purge_and_load() LANGUAGE plpgsql AS $$
       BEGIN
         DELETE FROM events WHERE id = 123;
         COMMIT;
         FOR i IN 1..40 LOOP
           INSERT INTO events (game_id, kind) VALUES (1, 'proc');
           COMMIT;
           PERFORM pg_sleep(0.1);
         END LOOP;
       END $$`,
    );
    await run();
    const proc = await db.connect();
    const call = proc.query('CALL purge_and_load()');
    try {
      // Its statistics stay in the procedure's session until the CALL ends (about 4 s from now).
      await new Promise((r) => setTimeout(r, 300));
      const first = (
        await checker.query('SELECT n_tup_del::int AS d FROM pg_stat_user_tables WHERE relname = $1', [
          'events',
        ])
      ).rows[0].d;
      expect(first).toBe(0);
      let foundAfter: number | undefined;
      for (let runNo = 1; runNo <= 13 && foundAfter === undefined; runNo++) {
        tick();
        const r = await run();
        expect(r.status).not.toBe('error');
        if ((t(r, 'public.events')?.rowsLost ?? 0) > 0) foundAfter = runNo * 5;
      }
      expect(foundAfter).toBeDefined();
      expect(foundAfter!).toBeLessThanOrEqual(60 + 5);
    } finally {
      await call;
    }
  });
});

describe('key ranges on a larger table', () => {
  it('bisects a contiguous run of ranges to the ones that lost rows and names the keys', async () => {
    await write(
      'CREATE TABLE big (id int PRIMARY KEY, v int)',
      'INSERT INTO big SELECT g, g FROM generate_series(1, 30000) g',
    );
    const plan = checksSchema.parse({ tables: [{ table: 'big' }] });
    try {
      const first = await run(plan);
      expect(res(first, 'public.big', 'noDecrease')?.detail).toMatch(/30000 rows in \d\d key ranges of id/);
      tick();
      await write(
        'DELETE FROM big WHERE id IN (5, 17000, 17001, 29999)',
        'INSERT INTO big SELECT g, 0 FROM generate_series(30001, 30100) g',
      );
      const r = await run(plan);
      expect(t(r, 'public.big')).toMatchObject({ rowsLost: 4, rowCount: 30096, unverified: 0 });
      expect(res(r, 'public.big', 'noDecrease')?.detail).toMatch(
        /^id 5: 1 row lost; id 17,000-17,001: 2 rows lost; id 29,999: 1 row lost/,
      );
      tick();
      const again = await run(plan);
      expect(again.exactCounts).toEqual([]);
      expect(t(again, 'public.big')?.rowsLost).toBe(4);
    } finally {
      await write('DROP TABLE big');
    }
  });
});

describe('4. statistics resets: only resets touching the checked tables trigger exact reads', () => {
  it("a reset of another table's counters (it moves the database epoch) reads nothing here", async () => {
    await write('CREATE TABLE IF NOT EXISTS other (id int)');
    await run();
    tick();
    await write("SELECT pg_stat_reset_single_table_counters('other'::regclass)");
    const r = await run();
    expect(r.exactCounts).toEqual([]);
    expect(r.status).toBe('ok');
  });

  it('a reset of shared statistics (bgwriter) reads nothing and is no "could not check"', async () => {
    await run();
    tick();
    await write("SELECT pg_stat_reset_shared('bgwriter')");
    const r = await run();
    expect(r.exactCounts).toEqual([]);
    expect(r.status).toBe('ok');
  });

  it("a reset of this table's counters after a delete and an insert: read exactly, the delete found", async () => {
    await run();
    tick();
    await write(
      'DELETE FROM games WHERE game_id = 3',
      'INSERT INTO games VALUES (3000, 1)',
      "SELECT pg_stat_reset_single_table_counters('games'::regclass)",
    );
    const r = await run();
    expect(r.exactCounts.map((c) => c.key)).toEqual(['public.games']);
    expect(t(r, 'public.games')).toMatchObject({ rowsLost: 1, rowCount: 200 });
  });
});

describe('5. schema fingerprint', () => {
  it('a column dropped and re-added with the same name and type is a change (its data is gone)', async () => {
    await run();
    tick();
    await write('ALTER TABLE games DROP COLUMN note', 'ALTER TABLE games ADD COLUMN note text');
    const r = await run();
    expect(res(r, 'public.games', 'schema')).toMatchObject({ status: 'violation' });
    expect(res(r, 'public.games', 'schema')?.detail).toMatch(
      /column note dropped; column note re-added \(attribute 4\): its previous values are gone/,
    );
  });

  it('a rename is reported as a rename', async () => {
    await run();
    tick();
    await write('ALTER TABLE games RENAME COLUMN note TO remark');
    const r = await run();
    expect(res(r, 'public.games', 'schema')?.detail).toMatch(
      /^column note renamed to remark \(to accept it: /,
    );
  });
});

describe('6. row-level security', () => {
  it('rows hidden from the role: "could not check" (exit 2), never a loss', async () => {
    await db.query('DROP ROLE IF EXISTS rls_reader');
    await db.query('CREATE ROLE rls_reader LOGIN');
    await db.query('GRANT SELECT ON games, events TO rls_reader');
    const fileStore = new MemoryStateStore();
    const asReader = () => checkDatabase(settings({ user: 'rls_reader' }), PLAN, fileStore);
    try {
      expect((await asReader()).status).toBe('ok');
      await db.query('ALTER TABLE games ENABLE ROW LEVEL SECURITY');
      await db.query('CREATE POLICY recent ON games USING (season > 2015)');
      const r = await asReader();
      expect(r.status).toBe('error');
      expect(res(r, 'public.games', 'appendOnly')).toMatchObject({
        status: 'error',
        failure: 'row-security',
      });
      expect(res(r, 'public.games', 'appendOnly')?.detail).toMatch(
        /hidden from this role by row-level security/,
      );
      expect(t(r, 'public.games')?.rowsLost).toBeUndefined();
      await db.query('ALTER ROLE rls_reader BYPASSRLS');
      const bypass = await asReader();
      expect(bypass.status).toBe('ok');
      expect(t(bypass, 'public.games')?.rowsLost).toBe(0);
    } finally {
      await db.query('ALTER TABLE games DISABLE ROW LEVEL SECURITY');
      await db.query('DROP POLICY IF EXISTS recent ON games');
      await db.query('REVOKE ALL ON games, events FROM rls_reader');
      await db.query('DROP ROLE rls_reader');
    }
  });
});

describe('7. state entries validated on read', () => {
  it('a partial entry: that table "could not check" naming it and the file; the entry is not written back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'classes-state-'));
    const file = path.join(dir, 'state.json');
    try {
      store = new FileStateStore(file);
      await run();
      const content = JSON.parse(fs.readFileSync(file, 'utf8'));
      delete content.tables['public.games'].counters;
      fs.writeFileSync(file, JSON.stringify(content));
      tick();
      const r = await run();
      expect(r.status).toBe('error');
      expect(res(r, 'public.games', 'appendOnly')).toMatchObject({ status: 'error', failure: 'state' });
      expect(res(r, 'public.games', 'appendOnly')?.detail).toMatch(
        /checks state of public\.games in state file .*state\.json is invalid \(counters/,
      );
      expect(res(r, 'public.events', 'noDecrease')?.status).toBe('ok');
      expect(JSON.parse(fs.readFileSync(file, 'utf8')).tables['public.games'].counters).toBeUndefined();
      // Accepting the table replaces the broken entry with a new baseline.
      tick();
      expect((await run(PLAN, ['public.games'])).status).toBe('ok');
      tick();
      expect((await run()).status).toBe('ok');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
