// jest globalSetup: one throwaway PostgreSQL for the whole run. Tests find it through the PG* variables
// (inherited by the workers) and create their own database with test/support/pg.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres } from './postgres.mjs';

export const STATE_FILE = path.join(os.tmpdir(), `pipeline-guardrails-jest-pg-${process.pid}.json`);

export default async function globalSetup() {
  const pg = await startPostgres();
  process.env.PGHOST = pg.host;
  process.env.PGPORT = String(pg.port);
  process.env.PGUSER = pg.user;
  process.env.PGDATABASE = 'postgres';
  process.env.PIPELINE_GUARDRAILS_TEST_PG_DATADIR = pg.dataDir;
  process.env.PIPELINE_GUARDRAILS_TEST_PG_BIN = pg.pgBin;
  process.env.PIPELINE_GUARDRAILS_TEST_PG_OSUSER = pg.osUser ?? '';
  globalThis.__PIPELINE_GUARDRAILS_PG__ = pg;
  fs.writeFileSync(STATE_FILE, JSON.stringify({ dataDir: pg.dataDir, dir: pg.dir, pgBin: pg.pgBin }));
}
