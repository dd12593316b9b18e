import type { ChecksConfig } from '../../lib/config/schema';
import { runChecks, type RunReport } from './checker';
import { CheckFailedError, connect, type ConnectionSettings } from './connection';
import type { StateStore } from './state-store';

export interface CheckDatabaseOptions {
  readonly accept?: readonly string[];
  readonly clock?: () => Date;
}

/**
 * One checker run, the same for the Lambda and the CLI: one connection, every check, the connection
 * closed. Never throws for database trouble; the report's status is `error` and `failures` says why.
 */
export async function checkDatabase(
  settings: ConnectionSettings,
  plan: ChecksConfig,
  store: StateStore,
  opts: CheckDatabaseOptions = {},
): Promise<RunReport> {
  const clock = opts.clock ?? (() => new Date());
  const started = clock();
  let client;
  try {
    client = await connect(settings);
  } catch (err) {
    const f = err instanceof CheckFailedError ? err : new CheckFailedError('error', String(err));
    return failedReport(started, clock(), f);
  }
  try {
    return await runChecks({ client, plan, store, accept: opts.accept, clock });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The report of a run that could not look at all. */
export function failedReport(started: Date, finished: Date, failure: CheckFailedError): RunReport {
  return {
    status: 'error',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    databaseMs: 0,
    results: [],
    tables: [],
    freshness: [],
    custom: [],
    exactCounts: [],
    failures: [{ kind: failure.kind, message: failure.message }],
  };
}
