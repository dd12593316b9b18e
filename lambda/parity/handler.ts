import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parityPairSchema } from '../../lib/config/sections/parity';
import { isSslMode, type ConnectionSettings } from '../data-checks/connection';
import { readCredentials } from '../data-checks/handler';
import { publishMetrics } from '../data-checks/metrics';
import { errorMessage, optionalEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { writeParitySummary, type ParitySummary } from '../shared/parity-summary';
import { parityMetricData } from './metrics';
import { failedResult, type ParityResult } from './result';
import { runParity } from './run';
import { pairSpec } from './spec';
import { paritySummaryOf } from './summary';

const cloudwatch = new CloudWatchClient({});
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/** The scheduled event: one configured pair, put in its schedule's input at deploy time. */
export interface ParityEvent {
  readonly pair: unknown;
}

/** Thrown at the end of a run that could not compare, so the invocation counts as failed. */
export class ParityRunFailedError extends Error {
  constructor(readonly summary: ParitySummary) {
    super(`parity ${summary.pair} could not compare: ${summary.failure ?? 'unknown failure'}`);
    this.name = 'ParityRunFailedError';
  }
}

/**
 * Scheduled parity of one pair: reads the read-only credentials, compares blue with green in one snapshot,
 * publishes the metrics, records the summary the traffic gates read, logs one JSON line with the samples,
 * and fails the invocation when it could not compare.
 */
export async function handler(event: ParityEvent): Promise<ParitySummary> {
  const envName = requireEnv('ENV_NAME');
  const namespace = requireEnv('METRIC_NAMESPACE');
  const stateTable = requireEnv('STATE_TABLE_NAME');
  const logger = createLogger({ component: 'parity', env: envName });
  const started = new Date();
  const rawName = (event?.pair as { name?: unknown } | undefined)?.name;
  const name = typeof rawName === 'string' ? rawName : 'unknown';

  let result: ParityResult;
  let maxDifferences = 0;
  try {
    const pair = parityPairSchema.parse(event?.pair);
    maxDifferences = pair.maxDifferences;
    const sslMode = optionalEnv('DB_SSL_MODE', 'verify-full');
    if (!isSslMode(sslMode)) throw new Error(`DB_SSL_MODE ${JSON.stringify(sslMode)} is not a known sslmode`);
    const settings: ConnectionSettings = {
      host: requireEnv('DB_HOST'),
      port: Number(requireEnv('DB_PORT')),
      database: requireEnv('DB_NAME'),
      ...(await readCredentials(requireEnv('DB_SECRET_ARN'))),
      sslMode,
      statementTimeoutMs: pair.statementTimeoutSeconds * 1000,
      lockTimeoutMs: 5000,
    };
    result = await runParity(settings, pairSpec(pair));
  } catch (err) {
    // Before any comparison (bad event, secret unreadable).
    result = failedResult({
      blue: '?',
      green: '?',
      key: [],
      started,
      finished: new Date(),
      failure: { kind: 'error', message: errorMessage(err) },
    });
  }

  const summary = paritySummaryOf(name, maxDifferences, result);
  await publishMetrics(cloudwatch, namespace, parityMetricData(envName, name, result));
  await writeParitySummary(doc, stateTable, summary);
  const level = result.status === 'identical' ? 'info' : result.status === 'different' ? 'warn' : 'error';
  logger.log(level, `parity ${name} ${result.status}`, { pair: name, ...result });
  if (result.status === 'error') throw new ParityRunFailedError(summary);
  return summary;
}
