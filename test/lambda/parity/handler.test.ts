import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler, ParityRunFailedError } from '../../../lambda/parity/handler';
import { createTestDatabase, type TestDatabase } from '../../support/pg';

/** The scheduled parity function: real PostgreSQL, mocked Secrets Manager, CloudWatch and DynamoDB. */
const cw = mockClient(CloudWatchClient);
const sm = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBDocumentClient);

let db: TestDatabase;
let logLines: string[];
let writeSpy: jest.SpyInstance;
const PAIR = {
  name: 'games',
  blue: { table: 'games' },
  green: { schemaName: 'unified', table: 'games' },
  key: ['game_id'],
  exclude: ['loaded_at'],
};

const published = (): MetricDatum[] =>
  cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
const value = (name: string) => published().find((d) => d.MetricName === name)?.Value;

beforeAll(async () => {
  db = await createTestDatabase('parity_handler');
  await db.query(`CREATE SCHEMA unified;
    CREATE TABLE games (game_id int PRIMARY KEY, score int, loaded_at timestamptz DEFAULT now());
    INSERT INTO games (game_id, score) SELECT g, g FROM generate_series(1, 50) g;
    CREATE TABLE unified.games (LIKE games INCLUDING ALL);
    INSERT INTO unified.games (game_id, score) SELECT g, g FROM generate_series(1, 50) g;`);
});
const savedEnv = { ...process.env };
afterAll(async () => {
  process.env = savedEnv;
  await db.drop();
});

beforeEach(() => {
  cw.reset();
  sm.reset();
  ddb.reset();
  cw.on(PutMetricDataCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  sm.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ username: String(db.config.user), password: 'unused-with-trust-auth' }),
  });
  process.env = {
    ...savedEnv,
    ENV_NAME: 'dev',
    METRIC_NAMESPACE: 'PipelineGuardrails',
    STATE_TABLE_NAME: 'state',
    DB_HOST: String(db.config.host),
    DB_PORT: String(db.config.port),
    DB_NAME: db.name,
    DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:ro-AbCdEf',
    DB_SSL_MODE: 'disable',
  };
  logLines = [];
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((line) => {
    logLines.push(String(line));
    return true;
  });
});
afterEach(() => writeSpy.mockRestore());

describe('parity handler', () => {
  it('compares, publishes differences by kind and a heartbeat, and records the summary for the gates', async () => {
    await db.query('UPDATE unified.games SET score = 0 WHERE game_id = 7');
    try {
      const summary = await handler({ pair: PAIR });
      expect(summary).toMatchObject({ pair: 'games', status: 'different', differences: 1, changed: 1 });
      expect(value('ParityDifferences')).toBe(1);
      expect(value('ParityChanged')).toBe(1);
      expect(value('ParityHeartbeat')).toBe(1);
      // Only what an alarm or a graph reads, the kinds and failures only when non-zero (each series costs).
      expect(published().map((d) => d.MetricName)).toEqual([
        'ParityDifferences',
        'ParityChanged',
        'ParityHeartbeat',
      ]);
      expect(published()[0]!.Dimensions).toEqual([
        { Name: 'Environment', Value: 'dev' },
        { Name: 'Pair', Value: 'games' },
      ]);
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        TableName: 'state',
        Item: expect.objectContaining({
          pk: 'parity',
          sk: 'pair#games',
          status: 'different',
          differences: 1,
        }),
      });
      const line = JSON.parse(logLines.find((l) => l.includes('parity games'))!);
      expect(line).toMatchObject({
        level: 'warn',
        pair: 'games',
        samples: [{ kind: 'changed', key: { game_id: '7' } }],
      });
    } finally {
      await db.query('UPDATE unified.games SET score = 7 WHERE game_id = 7');
    }
  });

  it('fails the invocation when it cannot compare: a failure metric, no heartbeat, an error summary', async () => {
    const err = await handler({
      pair: { ...PAIR, green: { schemaName: 'unified', table: 'missing' } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParityRunFailedError);
    expect((err as ParityRunFailedError).summary).toMatchObject({
      status: 'error',
      failure: expect.stringMatching(/missing-object: .*unified\.missing does not exist/),
    });
    expect(value('ParityFailures')).toBe(1);
    expect(value('ParityHeartbeat')).toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'parity', sk: 'pair#games', status: 'error' }),
    });
  });

  it('rejects a malformed event as a failed run, not a crash', async () => {
    await expect(handler({ pair: { name: 'games', key: [] } })).rejects.toBeInstanceOf(ParityRunFailedError);
    expect(value('ParityFailures')).toBe(1);
  });
});
