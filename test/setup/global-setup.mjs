// jest globalSetup: one throwaway PostgreSQL for the whole run. Tests find it through the PG* variables
// (inherited by the workers) and create their own database with test/support/pg.ts.
import { startPostgres } from './postgres.mjs';

export default async function globalSetup() {
  const pg = await startPostgres();
  process.env.PGHOST = pg.host;
  process.env.PGPORT = String(pg.port);
  process.env.PGUSER = pg.user;
  process.env.PGDATABASE = 'postgres';
  process.env.PIPELINE_GUARDRAILS_TEST_PG_DATADIR = pg.dataDir;
  process.env.PIPELINE_GUARDRAILS_TEST_PG_BIN = pg.pgBin;
  process.env.PIPELINE_GUARDRAILS_TEST_PG_OSUSER = pg.osUser ?? '';
  // Everything the teardown needs is here; nothing is written outside the server's own temp directory
  // (which holds its owner's pid, so a killed run's server is stopped and removed by the next run).
  globalThis.__PIPELINE_GUARDRAILS_PG__ = pg;
}
