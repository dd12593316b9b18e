import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler, ChecksRunFailedError, forgetCredentials } from '../../../lambda/data-checks/handler';
import { statePk } from '../../../lambda/data-checks/state-store';
import { createTestDatabase, type TestDatabase } from '../../support/pg';

const cw = mockClient(CloudWatchClient);
const sm = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBDocumentClient);

let db: TestDatabase;
const CHECKS = {
  scheduleMinutes: 1,
  tables: [{ table: 'games', minRows: 2, appendOnly: true }],
  freshness: [{ table: 'games', column: 'created_at', warnAfterMinutes: 60, errorAfterMinutes: 120 }],
};
let logLines: string[];
let writeSpy: jest.SpyInstance;

function published(): MetricDatum[] {
  return cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
}
const datum = (name: string, table?: string) =>
  published().find(
    (d) =>
      d.MetricName === name &&
      (table === undefined
        ? d.Dimensions?.length === 1
        : d.Dimensions?.some((x) => x.Name === 'Table' && x.Value === table)),
  );

beforeAll(async () => {
  db = await createTestDatabase('handler');
  await db.query(
    'CREATE TABLE games (game_id int PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())',
  );
  await db.query('INSERT INTO games (game_id) SELECT generate_series(1, 3)');
});
const savedEnv = { ...process.env };
afterAll(async () => {
  process.env = savedEnv;
  await db.drop();
});

beforeEach(() => {
  forgetCredentials();
  cw.reset();
  sm.reset();
  ddb.reset();
  cw.on(PutMetricDataCommand).resolves({});
  sm.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ username: String(db.config.user), password: 'unused-with-trust-auth' }),
  });
  ddb.on(BatchGetCommand).resolves({ Responses: {} });
  ddb.on(BatchWriteCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  Object.assign(process.env, {
    ENV_NAME: 'dev',
    METRIC_NAMESPACE: 'PipelineGuardrails',
    STATE_TABLE_NAME: 'state',
    DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:ro-AbCdEf',
    DB_HOST: String(db.config.host),
    DB_PORT: String(db.config.port),
    DB_NAME: db.name,
    DB_SSL_MODE: 'disable',
  });
  logLines = [];
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((line) => {
    logLines.push(String(line));
    return true;
  });
});
afterEach(() => writeSpy.mockRestore());

describe('data checks handler', () => {
  it('reads its secret once for several runs, and again at once when the login with it is refused', async () => {
    await handler({ checks: CHECKS });
    await handler({ checks: CHECKS });
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);

    // The role is renamed and its secret updated (a rotation): the cached user is refused, the run re-reads.
    const role = `rotating_${process.pid}`;
    await db.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
    try {
      forgetCredentials();
      sm.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({ username: role, password: 'x' }),
      });
      await handler({ checks: CHECKS });
      await db.query(`ALTER ROLE ${role} RENAME TO ${role}_b`);
      sm.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({ username: `${role}_b`, password: 'x' }),
      });
      sm.resetHistory();
      const summary = await handler({ checks: CHECKS });
      expect(summary.status).toBe('ok');
      expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    } finally {
      await db.query(`DROP ROLE IF EXISTS ${role}`);
      await db.query(`DROP ROLE IF EXISTS ${role}_b`);
    }
  });

  it('checks, publishes metrics with a heartbeat, saves baselines, writes the verdict, logs one line', async () => {
    const summary = await handler({ checks: CHECKS });

    expect(summary.status).toBe('ok');
    expect(cw).toHaveReceivedCommandWith(PutMetricDataCommand, { Namespace: 'PipelineGuardrails' });
    expect(datum('Heartbeat')?.Value).toBe(1);
    // Failures and per-table loss only when non-zero; the per-run loss (the alarm's) always.
    expect(datum('CheckFailures')).toBeUndefined();
    expect(datum('RowCount', 'public.games')).toMatchObject({
      Value: 3,
      Dimensions: [
        { Name: 'Environment', Value: 'dev' },
        { Name: 'Table', Value: 'public.games' },
      ],
    });
    expect(datum('RowsLost', 'public.games')).toBeUndefined();
    expect(datum('FreshnessAgeSeconds', 'public.games')?.Value).toBeLessThan(60);
    expect(ddb).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: {
        state: [
          {
            PutRequest: {
              Item: expect.objectContaining({ pk: statePk('public.games'), sk: 'baseline', count: 3 }),
            },
          },
        ],
      },
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'state',
      Item: expect.objectContaining({ pk: 'checks', sk: 'last-run', status: 'ok', problems: [] }),
    });
    expect(logLines).toHaveLength(1);
    expect(JSON.parse(logLines[0]!)).toMatchObject({ level: 'info', message: 'data checks ok', env: 'dev' });
  });

  it('fails the invocation, with a failure metric and no heartbeat, when the database is unreachable', async () => {
    process.env.DB_PORT = '1';
    await expect(handler({ checks: CHECKS })).rejects.toThrow(ChecksRunFailedError);
    expect(datum('CheckFailures')?.Value).toBeGreaterThanOrEqual(1);
    expect(datum('Heartbeat')).toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ status: 'error', problems: [expect.stringMatching(/unreachable/)] }),
    });
    expect(JSON.parse(logLines[0]!)).toMatchObject({ level: 'error', status: 'error' });
  });

  it('fails the invocation when the secret cannot be read', async () => {
    sm.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    await expect(handler({ checks: CHECKS })).rejects.toThrow(/AccessDeniedException/);
    expect(datum('CheckFailures')?.Value).toBe(1);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ status: 'error' }) });
  });

  it('fails the invocation when the secret has no password', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'x' }) });
    await expect(handler({ checks: CHECKS })).rejects.toThrow(/no string username and password/);
  });

  it('refuses an event that is not a valid checks config', async () => {
    await expect(handler({ checks: { tables: [{ table: 'Bad Name' }] } })).rejects.toThrow(
      ChecksRunFailedError,
    );
    expect(datum('CheckFailures')?.Value).toBe(1);
  });

  it('reports a violation without failing the invocation (it did look)', async () => {
    ddb.on(BatchGetCommand).resolves({});
    const summary = await handler({
      checks: { ...CHECKS, tables: [{ table: 'games', minRows: 10 }] },
    });
    expect(summary.status).toBe('violation');
    expect(summary.problems[0]).toMatch(/public\.games: minRows violated: 3 \(expected >= 10\)/);
    expect(datum('Heartbeat')?.Value).toBe(1);
  });
});
