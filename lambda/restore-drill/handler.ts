import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { positiveIntEnv } from './env';
import { requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { runDrillAction, type DrillContext, type DrillEvent, type DrillSettings } from './tasks';

/** The drill task function's settings, from its environment (set by lib/constructs/restore-drill.ts). */
export function readDrillSettings(env: NodeJS.ProcessEnv = process.env): DrillSettings {
  return {
    envName: requireEnv('ENV_NAME', env),
    stateTableName: requireEnv('STATE_TABLE_NAME', env),
    instanceClass: requireEnv('DRILL_INSTANCE_CLASS', env),
    subnetGroupName: requireEnv('DRILL_SUBNET_GROUP', env),
    securityGroupId: requireEnv('DRILL_SECURITY_GROUP_ID', env),
    secretArn: requireEnv('DRILL_SECRET_ARN', env),
    port: positiveIntEnv('DB_PORT', env),
    timeoutMinutes: positiveIntEnv('DRILL_TIMEOUT_MINUTES', env),
    recoveryTimeObjectiveMinutes: positiveIntEnv('DRILL_RTO_MINUTES', env),
  };
}

// Module scope: created once per container, reused by every invocation.
let ctx: DrillContext | undefined;

/** The restore drill's task function: one action per task state of the drill state machine. */
export async function handler(event: DrillEvent): Promise<unknown> {
  if (!ctx) {
    const settings = readDrillSettings();
    ctx = {
      settings,
      clients: {
        rds: new RDSClient({ maxAttempts: 5 }),
        secrets: new SecretsManagerClient({ maxAttempts: 5 }),
        doc: DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
          marshallOptions: { removeUndefinedValues: true },
        }),
        cloudwatch: new CloudWatchClient({ maxAttempts: 5 }),
      },
      log: createLogger({ service: 'restore-drill', environment: settings.envName }),
      now: () => new Date(),
    };
  }
  return runDrillAction(event, ctx);
}
