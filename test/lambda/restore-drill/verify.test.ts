import { checksSchema } from '../../../lib/config/sections/checks';
import { customCheckSchema } from '../../../lib/config/sections/checks';
import type { ConnectionSettings } from '../../../lambda/data-checks/connection';
import { checkDatabase } from '../../../lambda/data-checks/run';
import { MemoryStateStore } from '../../../lambda/data-checks/state-store';
import { captureManifest, type SnapshotManifest } from '../../../lambda/restore-drill/manifest';
import { verifyRestoredCopy } from '../../../lambda/restore-drill/verify';
import { serverConfig, withClient, createTestDatabase, type TestDatabase } from '../../support/pg';

/**
 * The drill's verification against the real PostgreSQL of the harness. "Production" is one database; the
 * manifest comes from a real checker run on it; the "restored copy" is a second database created from it
 * with CREATE DATABASE ... TEMPLATE (a byte-for-byte copy, as a restore is), then changed per scenario.
 */
const CHECKS = checksSchema.parse({
  tables: [
    { table: 'games', minRows: 100, appendOnly: true },
    { table: 'events', noDecrease: true },
    { table: 'scratch', noDecrease: false },
  ],
});
const SNAPSHOT = 'pipeline-guardrails-test-scheduled-20261201t050000z';

let prod: TestDatabase;
let manifest: SnapshotManifest;
const copies: string[] = [];

function settings(database: string): ConnectionSettings {
  const c = serverConfig(database);
  return {
    host: String(c.host),
    port: Number(c.port),
    database,
    user: String(c.user),
    sslMode: 'disable',
    statementTimeoutMs: 5000,
    lockTimeoutMs: 1000,
  };
}

/** A "restored copy" of production, changed by `sql` (run in the copy). */
async function restoredCopy(...sql: string[]): Promise<string> {
  const name = `${prod.name}_copy${copies.length}`;
  await withClient(serverConfig(), (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${prod.name}"`));
  copies.push(name);
  await withClient(serverConfig(name), async (c) => {
    for (const s of sql) await c.query(s);
  });
  return name;
}

beforeAll(async () => {
  prod = await createTestDatabase('drill');
  await prod.query(
    'CREATE TABLE games (game_id int PRIMARY KEY, season int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
  );
  await prod.query(
    'INSERT INTO games (game_id, season) SELECT g, 2000 + g % 20 FROM generate_series(1, 120) g',
  );
  await prod.query('CREATE TABLE events (id bigint PRIMARY KEY, game_id int, kind text)');
  await prod.query("INSERT INTO events SELECT g, g % 120 + 1, 'shot' FROM generate_series(1, 500) g");
  await prod.query('CREATE TABLE scratch (id int PRIMARY KEY)');
  await prod.query('INSERT INTO scratch SELECT generate_series(1, 10)');
  // The checker's scheduled run on production: its state is what the manifest is made of.
  const store = new MemoryStateStore();
  const run = await checkDatabase(settings(prod.name), CHECKS, store);
  if (run.status !== 'ok') throw new Error(`baseline run: ${run.status}`);
  manifest = {
    snapshotId: SNAPSHOT,
    ...(await captureManifest(store, ['public.games', 'public.events', 'public.scratch'], new Date())),
  };
});

afterAll(async () => {
  await withClient(serverConfig(), async (c) => {
    for (const n of copies) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
  });
  await prod.drop();
});

const failed = (v: { findings: readonly { passed: boolean; rule: string; target: string }[] }) =>
  v.findings.filter((f) => !f.passed).map((f) => `${f.rule} ${f.target}`);

describe('verifying a restored copy against its snapshot manifest', () => {
  it('records the exact counts and fingerprints of every table in the manifest', () => {
    expect(manifest.tables.map((t) => [t.key, t.count])).toEqual([
      ['public.games', 120],
      ['public.events', 500],
      ['public.scratch', 10],
    ]);
    expect(manifest.tables.every((t) => t.fingerprint?.hash)).toBe(true);
    expect(manifest.missing).toEqual([]);
  });

  it('passes a complete copy: every row present, every schema as at snapshot time', async () => {
    const copy = await restoredCopy();
    const v = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(failed(v)).toEqual([]);
    expect(v.passed).toBe(true);
    expect(v.tables).toEqual([
      { key: 'public.games', count: 120, manifestCount: 120, fingerprintMatches: true },
      { key: 'public.events', count: 500, manifestCount: 500, fingerprintMatches: true },
      { key: 'public.scratch', count: 10, manifestCount: 10, fingerprintMatches: true },
    ]);
  });

  it('passes a copy with more rows than the manifest (rows written between the count and the snapshot)', async () => {
    const copy = await restoredCopy("INSERT INTO events VALUES (501, 1, 'shot')");
    const v = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(v.passed).toBe(true);
  });

  it('fails a copy with a missing row, naming the table and how many', async () => {
    const copy = await restoredCopy('DELETE FROM events WHERE id = 42');
    const v = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(v.passed).toBe(false);
    expect(failed(v)).toEqual(['rows-present public.events']);
    expect(v.findings.find((f) => !f.passed)?.detail).toMatch(
      /^1 row\(s\) missing: 499 in the copy, 500 counted/,
    );
  });

  it('does not fail on fewer rows in a table where deletes are allowed (no noDecrease, no appendOnly)', async () => {
    const copy = await restoredCopy('DELETE FROM scratch WHERE id = 1');
    const v = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(v.passed).toBe(true);
  });

  it('fails a copy with a dropped column, naming the column', async () => {
    const copy = await restoredCopy('ALTER TABLE games DROP COLUMN created_at');
    const v = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(failed(v)).toEqual(['schema public.games']);
    expect(v.findings.find((f) => !f.passed)?.detail).toBe('column created_at dropped');
  });

  it('fails a copy with a missing table (the checker cannot count it)', async () => {
    const copy = await restoredCopy('DROP TABLE scratch');
    const v = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(v.passed).toBe(false);
    expect(failed(v)).toContain('checker public.scratch');
  });

  it('fails a copy below a configured floor (the checker rules apply)', async () => {
    const copy = await restoredCopy('DELETE FROM games WHERE game_id > 90');
    const v = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(failed(v)).toEqual(['checker public.games', 'rows-present public.games']);
  });

  it('runs the sentinel query: out of bounds fails, within bounds passes', async () => {
    const copy = await restoredCopy();
    const sentinel = (min: number) =>
      customCheckSchema.parse({
        name: 'drill-seasons',
        sql: 'SELECT count(DISTINCT season) FROM games',
        min,
        description: 'every season restored',
      });
    const ok = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
      sentinel: sentinel(20),
    });
    expect(ok.passed).toBe(true);
    const bad = await verifyRestoredCopy({
      settings: settings(copy),
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
      sentinel: sentinel(21),
    });
    expect(failed(bad)).toEqual(['sentinel drill-seasons']);
  });

  it('fails when the snapshot has no manifest (never a false all good)', async () => {
    const copy = await restoredCopy();
    const v = await verifyRestoredCopy({ settings: settings(copy), checks: CHECKS, snapshotId: SNAPSHOT });
    expect(failed(v)).toEqual([`manifest ${SNAPSHOT}`]);
  });

  it('fails when the copy cannot be reached', async () => {
    const v = await verifyRestoredCopy({
      settings: { ...settings(prod.name), port: 1 },
      checks: CHECKS,
      snapshotId: SNAPSHOT,
      manifest,
    });
    expect(v.passed).toBe(false);
    expect(failed(v)).toEqual(['checker unreachable']);
  });
});
