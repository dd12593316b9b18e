import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { checksSchema, customCheckSchema } from '../../lib/config/sections/checks';
import type { ConnectionSettings } from '../data-checks/connection';
import { requireEnv } from '../shared/env';
import { createLogger, type Logger } from '../shared/logger';
import { DrillAuthenticationError, DrillRestoreFailedError } from './errors';
import { loadManifest } from './manifest';
import type { DrillState } from './tasks';
import { verifyRestoredCopy, type DrillVerification } from './verify';

/** What the Verify task sends: the execution state, the environment's checks and the optional sentinel. */
export interface VerifierEvent {
  readonly state: DrillState;
  readonly checks: unknown;
  readonly sentinel?: unknown;
}

export interface VerifierContext {
  readonly envName: string;
  readonly stateTableName: string;
  readonly secretArn: string;
  readonly databaseName: string;
  readonly secrets: SecretsManagerClient;
  readonly doc: DynamoDBDocumentClient;
  readonly log: Logger;
  /** @default verify-full (RDS certificate checked against the Lambda CA bundle) */
  readonly sslMode?: ConnectionSettings['sslMode'];
}

/**
 * Logs in to the restored copy with the drill's own secret (the copy's master user, with the password the
 * drill set; never production's credentials), runs the verification and returns it. A failed rule is a
 * result (passed: false), not an error; a login refused while the new password is still being applied
 * throws DrillAuthenticationPending, which the state machine retries.
 */
export async function verifyDrill(event: VerifierEvent, ctx: VerifierContext): Promise<DrillVerification> {
  const drill = event.state.drill;
  const where = event.state.credentials ?? event.state.restore;
  if (!drill || !where?.endpoint || !where.port) {
    throw new DrillRestoreFailedError('verify: the execution state has no restored instance endpoint');
  }
  const out = await ctx.secrets.send(new GetSecretValueCommand({ SecretId: ctx.secretArn }));
  let secret: { username?: unknown; password?: unknown; instanceIdentifier?: unknown };
  try {
    secret = JSON.parse(out.SecretString ?? '') as typeof secret;
  } catch {
    throw new DrillAuthenticationError(`secret ${ctx.secretArn} holds no drill credentials yet`);
  }
  if (secret.instanceIdentifier !== drill.instanceId) {
    throw new DrillAuthenticationError(
      `secret ${ctx.secretArn} holds the credentials of ${String(secret.instanceIdentifier)}, not ${drill.instanceId}`,
    );
  }
  if (typeof secret.username !== 'string' || typeof secret.password !== 'string') {
    throw new DrillAuthenticationError(`secret ${ctx.secretArn} has no string username and password`);
  }
  const checks = checksSchema.parse(event.checks);
  const sentinel = event.sentinel === undefined ? undefined : customCheckSchema.parse(event.sentinel);
  const manifest = await loadManifest(ctx.doc, ctx.stateTableName, drill.snapshotId);
  const verification = await verifyRestoredCopy({
    settings: {
      host: where.endpoint,
      port: where.port,
      database: ctx.databaseName,
      user: secret.username,
      password: secret.password,
      sslMode: ctx.sslMode ?? 'verify-full',
      // A restored volume loads its blocks from S3 on first read: exact counts run slower than on the primary.
      statementTimeoutMs: Math.max(DRILL_STATEMENT_TIMEOUT_SECONDS, checks.statementTimeoutSeconds) * 1000,
      lockTimeoutMs: checks.lockTimeoutSeconds * 1000,
    },
    checks,
    snapshotId: drill.snapshotId,
    manifest,
    sentinel,
  });
  if (verification.findings.some((f) => f.rule === 'checker' && f.target === 'authentication')) {
    throw new DrillAuthenticationError(
      `${drill.instanceId} refused the drill's credentials (password change not applied yet?)`,
    );
  }
  ctx.log.log(
    verification.passed ? 'info' : 'error',
    `restored copy ${verification.passed ? 'passed' : 'failed'}`,
    {
      instanceId: drill.instanceId,
      snapshotId: drill.snapshotId,
      failed: verification.findings.filter((f) => !f.passed),
      durationMs: verification.durationMs,
    },
  );
  return verification;
}

/** Per-statement limit on the copy (the verifier's Lambda timeout bounds the whole run). */
export const DRILL_STATEMENT_TIMEOUT_SECONDS = 300;

let ctx: VerifierContext | undefined;

export async function handler(event: VerifierEvent): Promise<DrillVerification> {
  if (!ctx) {
    const envName = requireEnv('ENV_NAME');
    ctx = {
      envName,
      stateTableName: requireEnv('STATE_TABLE_NAME'),
      secretArn: requireEnv('DRILL_SECRET_ARN'),
      databaseName: requireEnv('DB_NAME'),
      secrets: new SecretsManagerClient({ maxAttempts: 5 }),
      doc: DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 })),
      log: createLogger({ service: 'restore-drill-verifier', environment: envName }),
    };
  }
  return verifyDrill(event, ctx);
}
