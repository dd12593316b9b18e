import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { checksSchema } from '../../lib/config/sections/checks';
import { writeChecksSummary, type ChecksSummary } from '../shared/checks-summary';
import { errorMessage, optionalEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { CheckFailedError, isSslMode, type ConnectionSettings } from './connection';
import { failureMetricData, metricData, publishMetrics } from './metrics';
import { logFieldsOf, summaryOf } from './report';
import { checkDatabase, failedReport } from './run';
import { DynamoStateStore } from './state-store';

const cloudwatch = new CloudWatchClient({});
const secrets = new SecretsManagerClient({});
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/** The scheduled event: the environment's `checks` config, put in the schedule's input at deploy time. */
export interface DataChecksEvent {
  readonly checks: unknown;
}

/** Thrown at the end of a run that could not check everything, so the invocation counts as failed. */
export class ChecksRunFailedError extends Error {
  constructor(readonly summary: ChecksSummary) {
    super(`data checks could not check: ${summary.problems.join(' | ')}`);
    this.name = 'ChecksRunFailedError';
  }
}

export async function readCredentials(secretArn: string): Promise<{ user: string; password: string }> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let parsed: { username?: unknown; password?: unknown };
  try {
    parsed = JSON.parse(out.SecretString ?? '') as typeof parsed;
  } catch {
    throw new CheckFailedError(
      'authentication',
      `secret ${secretArn} is not JSON with username and password`,
    );
  }
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    throw new CheckFailedError('authentication', `secret ${secretArn} has no string username and password`);
  }
  return { user: parsed.username, password: parsed.password };
}

/**
 * Credentials are read at most once per CREDENTIALS_TTL_MS per container: each GetSecretValue is billed
 * ($0.05 per 10,000), and prod runs every minute. A login refused with cached credentials is retried at once
 * with freshly read ones (a rotated password costs no run).
 */
export const CREDENTIALS_TTL_MS = 15 * 60_000;
let cached: { secretArn: string; readAt: number; value: { user: string; password: string } } | undefined;

async function credentialsFor(
  secretArn: string,
  now: number,
): Promise<{ value: { user: string; password: string }; fromCache: boolean }> {
  if (cached && cached.secretArn === secretArn && now - cached.readAt < CREDENTIALS_TTL_MS)
    return { value: cached.value, fromCache: true };
  cached = undefined;
  const value = await readCredentials(secretArn);
  cached = { secretArn, readAt: now, value };
  return { value, fromCache: false };
}

/** Forgets the cached credentials (tests; a refused login does it by itself). */
export function forgetCredentials(): void {
  cached = undefined;
}

/**
 * Scheduled data checks: reads the credentials, runs every check over one connection, publishes the
 * metrics, writes the verdict the traffic shift reads, logs one JSON line, and fails the invocation
 * when it could not look (unreachable, authentication, timeout, missing table or column, permission).
 */
export async function handler(event: DataChecksEvent): Promise<ChecksSummary> {
  const envName = requireEnv('ENV_NAME');
  const namespace = requireEnv('METRIC_NAMESPACE');
  const stateTable = requireEnv('STATE_TABLE_NAME');
  const logger = createLogger({ component: 'data-checks', env: envName });
  const started = new Date();

  let report;
  try {
    const plan = checksSchema.parse(event?.checks);
    const sslMode = optionalEnv('DB_SSL_MODE', 'verify-full');
    if (!isSslMode(sslMode)) throw new Error(`DB_SSL_MODE ${JSON.stringify(sslMode)} is not a known sslmode`);
    const secretArn = requireEnv('DB_SECRET_ARN');
    const settingsWith = (creds: { user: string; password: string }): ConnectionSettings => ({
      host: requireEnv('DB_HOST'),
      port: Number(requireEnv('DB_PORT')),
      database: requireEnv('DB_NAME'),
      ...creds,
      sslMode,
      statementTimeoutMs: plan.statementTimeoutSeconds * 1000,
      lockTimeoutMs: plan.lockTimeoutSeconds * 1000,
    });
    const store = new DynamoStateStore(doc, stateTable);
    const creds = await credentialsFor(secretArn, started.getTime());
    report = await checkDatabase(settingsWith(creds.value), plan, store);
    const refused = report.failures.some((f) => f.kind === 'authentication');
    if (refused) forgetCredentials();
    // A login refused before anything was checked: run again with the secret as it is now.
    const nothingChecked = report.tables.length === 0 && report.results.length === 0;
    if (refused && creds.fromCache && nothingChecked) {
      const fresh = await credentialsFor(secretArn, Date.now());
      report = await checkDatabase(settingsWith(fresh.value), plan, store);
      if (report.failures.some((f) => f.kind === 'authentication')) forgetCredentials();
    }
  } catch (err) {
    // Before any check ran (bad event, secret unreadable): still a failure metric and a failed summary.
    const failure = err instanceof CheckFailedError ? err : new CheckFailedError('error', errorMessage(err));
    report = failedReport(started, new Date(), failure);
    await publishMetrics(cloudwatch, namespace, failureMetricData(envName)).catch(() => undefined);
    const summary = summaryOf(report);
    await writeChecksSummary(doc, stateTable, summary).catch(() => undefined);
    logger.error('data checks could not run', logFieldsOf(report));
    throw new ChecksRunFailedError(summary);
  }

  const summary = summaryOf(report);
  await publishMetrics(cloudwatch, namespace, metricData(envName, report));
  await writeChecksSummary(doc, stateTable, summary);
  const level = report.status === 'ok' ? 'info' : report.status === 'violation' ? 'warn' : 'error';
  logger.log(level, `data checks ${report.status}`, logFieldsOf(report));
  if (report.status === 'error') throw new ChecksRunFailedError(summary);
  return summary;
}
