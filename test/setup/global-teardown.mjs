// jest globalTeardown: stop the PostgreSQL that globalSetup started and remove its files.
export default async function globalTeardown() {
  const pg = globalThis.__PIPELINE_GUARDRAILS_PG__;
  if (pg) pg.stop();
}
