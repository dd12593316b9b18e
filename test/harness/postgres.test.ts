import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, loadSeedscale, type TestDatabase } from '../support/pg';

describe('test harness PostgreSQL', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('harness');
  });

  afterAll(async () => {
    await db.drop();
  });

  it('is a real PostgreSQL server of a major version RDS runs', async () => {
    const { rows } = await db.query('SHOW server_version_num');
    const major = Math.floor(Number(rows[0].server_version_num) / 10000);
    expect([15, 16, 17]).toContain(major);
  });

  it('gives each test file its own empty database', async () => {
    const { rows } = await db.query(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(rows[0].n).toBe(0);
    expect(db.name).toMatch(/^harness_/);
  });

  it('loads the production-shaped seedscale database at a small scale with exact counts', async () => {
    const expected = loadSeedscale(db, 0.01);
    expect(expected.size).toBe(40);
    expect(expected.get('hoopr_play_by_play')).toBe(130748);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM hoopr_play_by_play');
    expect(rows[0].n).toBe(expected.get('hoopr_play_by_play'));
  });
});

describe('test harness clean-up', () => {
  it('writes no state file of its own in the temp directory (only the server directory, removed at teardown)', () => {
    // The run's global setup is jest's main process: this worker's parent, or this process when run in band.
    for (const pid of [process.pid, process.ppid]) {
      expect(fs.existsSync(path.join(os.tmpdir(), `pipeline-guardrails-jest-pg-${pid}.json`))).toBe(false);
    }
  });
});
