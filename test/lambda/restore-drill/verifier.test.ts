import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DrillAuthenticationError, DrillRestoreFailedError } from '../../../lambda/restore-drill/errors';
import { verifyDrill, type VerifierContext } from '../../../lambda/restore-drill/verifier';
import { createLogger } from '../../../lambda/shared/logger';
import { createTestDatabase, type TestDatabase } from '../../support/pg';

/** The verifier's login: the drill's own secret for this drill's instance, or a retried/failed drill. */
const secrets = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBDocumentClient);
const INSTANCE = 'pipeline-guardrails-test-drill-20261201t050000z';
let db: TestDatabase;
let ctx: VerifierContext;

beforeAll(async () => {
  db = await createTestDatabase('verifier');
  await db.query('CREATE TABLE games (game_id int PRIMARY KEY)');
  await db.query('INSERT INTO games SELECT generate_series(1, 5)');
  ctx = {
    envName: 'test',
    stateTableName: 'state',
    secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:drill-AbCdEf',
    databaseName: db.name,
    secrets: new SecretsManagerClient({}),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    log: createLogger({}, () => undefined),
    sslMode: 'disable',
  };
});
afterAll(() => db.drop());
beforeEach(() => {
  secrets.reset();
  ddb.reset();
  ddb.on(GetCommand).resolves({});
});

const event = (withEndpoint = true) => ({
  state: {
    drill: {
      instanceId: INSTANCE,
      snapshotId: 'pipeline-guardrails-test-scheduled-20261130t050000z',
      snapshotCreatedAt: '2026-11-30T05:00:00Z',
      hasManifest: false,
      startedAt: '2026-12-01T05:00:00Z',
    },
    credentials: {
      available: true,
      status: 'available',
      requestedAt: '2026-12-01T05:20:00Z',
      elapsedSeconds: 60,
      ...(withEndpoint ? { endpoint: String(db.config.host), port: Number(db.config.port) } : {}),
    },
  },
  checks: { tables: [{ table: 'games' }] },
});
const secret = (v: Record<string, unknown>) =>
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(v) });

describe('the drill verifier', () => {
  it('logs in with the drill secret of this instance and returns the verification (no manifest: failed)', async () => {
    secret({ username: db.config.user, password: '', instanceIdentifier: INSTANCE });
    const v = await verifyDrill(event(), ctx);
    expect(v.tables).toEqual([{ key: 'public.games', count: 5 }]);
    expect(v.passed).toBe(false);
    expect(v.findings.filter((f) => !f.passed).map((f) => f.rule)).toEqual(['manifest']);
  });

  it('refuses credentials written for another drill instance (retried by the state machine)', async () => {
    secret({ username: 'postgres', password: 'x', instanceIdentifier: 'pipeline-guardrails-test-drill-old' });
    await expect(verifyDrill(event(), ctx)).rejects.toThrow(DrillAuthenticationError);
  });

  it('treats a secret with no drill credentials yet as pending', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'placeholder' });
    await expect(verifyDrill(event(), ctx)).rejects.toThrow(/holds no drill credentials yet/);
  });

  it('turns a refused login into DrillAuthenticationPending (a password change not applied yet)', async () => {
    secret({ username: 'no_such_role', password: 'x', instanceIdentifier: INSTANCE });
    const err = await verifyDrill(event(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DrillAuthenticationError);
    expect((err as Error).name).toBe('DrillAuthenticationPending');
  });

  it('fails at once without an endpoint in the execution state', async () => {
    await expect(verifyDrill(event(false), ctx)).rejects.toThrow(DrillRestoreFailedError);
    expect(secrets.calls()).toHaveLength(0);
  });
});
