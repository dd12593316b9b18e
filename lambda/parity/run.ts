import { Client } from 'pg';
import {
  asCheckFailed,
  clientConfig,
  CheckFailedError,
  type ConnectionSettings,
} from '../data-checks/connection';
import { compareRelations } from './engine';
import { failedResult, type ParityResult } from './result';
import { relationKey, type ParitySpec } from './spec';

/** Shows up in pg_stat_activity, apart from the data checks' sessions. */
export const PARITY_APPLICATION_NAME = 'pipeline-guardrails-parity';

/** Opens one connection with the data checks' settings (TLS, timeouts), named for parity. */
export async function connectParity(s: ConnectionSettings): Promise<Client> {
  const client = new Client({ ...clientConfig(s), application_name: PARITY_APPLICATION_NAME });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw asCheckFailed(err, `cannot connect to ${s.host}:${s.port}/${s.database} as ${s.user}`);
  }
}

export interface RunParityOptions {
  /** Connections to open: 2 reads both sides at once (one snapshot, exported). @default 2 */
  readonly connections?: 1 | 2;
  readonly clock?: () => Date;
  readonly onProgress?: (message: string) => void;
}

/** One comparison, the same for the Lambda and the CLI: connect, compare, close. Never throws. */
export async function runParity(
  settings: ConnectionSettings,
  spec: ParitySpec,
  opts: RunParityOptions = {},
): Promise<ParityResult> {
  const clock = opts.clock ?? (() => new Date());
  const started = clock();
  const clients: Client[] = [];
  try {
    for (let i = 0; i < (opts.connections ?? 2); i++) clients.push(await connectParity(settings));
    return await compareRelations({
      clients: clients.length === 2 ? [clients[0]!, clients[1]!] : [clients[0]!],
      spec,
      clock,
      onProgress: opts.onProgress,
    });
  } catch (err) {
    const f = err instanceof CheckFailedError ? err : asCheckFailed(err, 'parity');
    return failedResult({
      blue: relationKey(spec.blue),
      green: relationKey(spec.green),
      key: spec.key,
      started,
      finished: clock(),
      failure: { kind: f.kind, message: f.message },
    });
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
