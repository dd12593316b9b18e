import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ExecutionError, StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { checkDatabase } from '../../../lambda/data-checks/run';
import { MemoryStateStore } from '../../../lambda/data-checks/state-store';
import { captureManifest, type SnapshotManifest } from '../../../lambda/restore-drill/manifest';
import { DRILL_METRICS, MANIFEST_PK_PREFIX } from '../../../lambda/restore-drill/names';
import { runDrillAction, type DrillContext, type DrillEvent } from '../../../lambda/restore-drill/tasks';
import {
  verifyDrill,
  type VerifierContext,
  type VerifierEvent,
} from '../../../lambda/restore-drill/verifier';
import { createLogger } from '../../../lambda/shared/logger';
import { FIXTURE_CHECKS, synthesizedDrillDefinition } from '../../lib/constructs/restore-drill-fixture';
import { createTestDatabase, type TestDatabase } from '../../support/pg';

/**
 * The SYNTHESIZED drill state machine, run by aws-local-stepfunctions, with every Lambda task overridden by
 * the real task handler (or the real verifier) against mocked RDS, Secrets Manager, DynamoDB and CloudWatch.
 * The "restored copy" the verifier logs in to is a real database on the harness's PostgreSQL. RDS is a small
 * simulation: a restore becomes available after RESTORE_SECONDS, a password change applies after a poll.
 */
const definition = synthesizedDrillDefinition();
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type Json = Parameters<StateMachine['run']>[0];
const ENV = 'test';
const SNAPSHOT = 'pipeline-guardrails-test-scheduled-20261130t050000z';
const START = '2026-12-01T05:00:00.000Z';
const INSTANCE = 'pipeline-guardrails-test-drill-20261201t050000z';
const RESTORE_SECONDS = 600;

const rds = mockClient(RDSClient);
const secrets = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBDocumentClient);
const cw = mockClient(CloudWatchClient);

let clock = 0;
const now = () => new Date(Date.parse(START) + clock * 1000);
let copy: TestDatabase;
let manifest: SnapshotManifest;
let instances: Map<string, DBInstance & { readyAt: number; passwordAt?: number }>;
let secretValue: string | undefined;
let stateItems: Record<string, unknown>[];
let restoreBehaviour: 'normal' | 'never-available' | 'fails';
let deleteRefusals: number;

const log = createLogger({ test: 'drill' }, () => undefined);
const ctx: DrillContext = {
  settings: {
    envName: ENV,
    stateTableName: 'state',
    instanceClass: 'db.t4g.medium',
    subnetGroupName: 'pipeline-guardrails-test-drill',
    securityGroupId: 'sg-0123456789abcdef0',
    secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:drill-AbCdEf',
    port: 5432,
    timeoutMinutes: 60,
    recoveryTimeObjectiveMinutes: 30,
  },
  clients: {
    rds: new RDSClient({}),
    secrets: new SecretsManagerClient({}),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    cloudwatch: new CloudWatchClient({}),
  },
  log,
  now,
  password: () => 'drill-password',
};
let verifierCtx: VerifierContext;

const TAGS = [
  { Key: 'managed-by', Value: 'pipeline-guardrails' },
  { Key: 'environment', Value: ENV },
];

beforeAll(async () => {
  // aws-local-stepfunctions 3.0.0 sets $$.Execution.StartTime to the real time whatever `context` says
  // (its README says otherwise): fix Date only, so the start time, and the instance name, are known.
  jest.useFakeTimers({
    now: new Date(START),
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
  copy = await createTestDatabase('drillsm');
  await copy.query('CREATE TABLE games (game_id int PRIMARY KEY, season int NOT NULL)');
  await copy.query('INSERT INTO games SELECT g, 2000 + g % 20 FROM generate_series(1, 120) g');
  await copy.query('CREATE TABLE events (id bigint PRIMARY KEY, game_id int)');
  await copy.query('INSERT INTO events SELECT g, g % 120 + 1 FROM generate_series(1, 500) g');
  const store = new MemoryStateStore();
  const settings = {
    host: String(copy.config.host),
    port: Number(copy.config.port),
    database: copy.name,
    user: String(copy.config.user),
    sslMode: 'disable' as const,
    statementTimeoutMs: 5000,
    lockTimeoutMs: 1000,
  };
  const baseline = await checkDatabase(settings, FIXTURE_CHECKS, store);
  if (baseline.status !== 'ok') throw new Error(`baseline run: ${baseline.status}`);
  manifest = {
    snapshotId: SNAPSHOT,
    ...(await captureManifest(store, ['public.games', 'public.events'], now())),
  };
  verifierCtx = {
    envName: ENV,
    stateTableName: 'state',
    secretArn: ctx.settings.secretArn,
    databaseName: copy.name,
    secrets: ctx.clients.secrets,
    doc: ctx.clients.doc,
    log,
    sslMode: 'disable',
  };
});

afterAll(async () => {
  jest.useRealTimers();
  await copy.drop();
});

function notFound(name: string): Error {
  return Object.assign(new Error(`${name}`), { name });
}

beforeEach(() => {
  for (const m of [rds, secrets, ddb, cw]) m.reset();
  clock = 0;
  instances = new Map();
  secretValue = undefined;
  stateItems = [];
  restoreBehaviour = 'normal';
  deleteRefusals = 0;

  rds.on(DescribeDBSnapshotsCommand).callsFake((input: { DBSnapshotIdentifier?: string }) => {
    const all = [
      {
        DBSnapshotIdentifier: SNAPSHOT,
        Status: 'available',
        Encrypted: true,
        SnapshotCreateTime: new Date('2026-11-30T05:00:00Z'),
        TagList: [...TAGS, { Key: 'reason', Value: 'scheduled' }],
      },
      {
        DBSnapshotIdentifier: 'someone-elses-snapshot',
        Status: 'available',
        Encrypted: true,
        SnapshotCreateTime: new Date('2026-11-30T06:00:00Z'),
        TagList: [],
      },
    ];
    if (!input.DBSnapshotIdentifier) return { DBSnapshots: all };
    const hit = all.filter((s) => s.DBSnapshotIdentifier === input.DBSnapshotIdentifier);
    if (hit.length === 0) throw notFound('DBSnapshotNotFoundFault');
    return { DBSnapshots: hit };
  });
  rds
    .on(RestoreDBInstanceFromDBSnapshotCommand)
    .callsFake((input: RestoreDBInstanceFromDBSnapshotCommandInput) => {
      const id = input.DBInstanceIdentifier!;
      if (instances.has(id)) throw notFound('DBInstanceAlreadyExistsFault');
      instances.set(id, {
        DBInstanceIdentifier: id,
        DBInstanceStatus: 'creating',
        MasterUsername: String(copy.config.user),
        InstanceCreateTime: now(),
        TagList: input.Tags,
        readyAt: restoreBehaviour === 'never-available' ? Infinity : clock + RESTORE_SECONDS,
      });
      return { DBInstance: { DBInstanceIdentifier: id, DBInstanceStatus: 'creating' } };
    });
  const view = (i: DBInstance & { readyAt: number; passwordAt?: number }): DBInstance => {
    const { readyAt, passwordAt, ...rest } = i;
    let status = i.DBInstanceStatus;
    if (status === 'creating' && clock >= readyAt)
      status = restoreBehaviour === 'fails' ? 'failed' : 'available';
    const pending = passwordAt !== undefined && clock < passwordAt;
    return {
      ...rest,
      DBInstanceStatus: pending ? 'resetting-master-credentials' : status,
      PendingModifiedValues: pending ? { MasterUserPassword: '****' } : {},
      Endpoint:
        status === 'available'
          ? { Address: String(copy.config.host), Port: Number(copy.config.port) }
          : undefined,
    };
  };
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    if (input.DBInstanceIdentifier) {
      const i = instances.get(input.DBInstanceIdentifier);
      if (!i) throw notFound('DBInstanceNotFoundFault');
      return { DBInstances: [view(i)] };
    }
    return { DBInstances: [...instances.values()].map(view) };
  });
  rds.on(ModifyDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    const i = instances.get(input.DBInstanceIdentifier)!;
    i.DBInstanceStatus = 'available';
    i.passwordAt = clock + 45;
    return {};
  });
  rds.on(DeleteDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    if (!instances.has(input.DBInstanceIdentifier)) throw notFound('DBInstanceNotFoundFault');
    if (deleteRefusals > 0) {
      deleteRefusals -= 1;
      throw Object.assign(new Error('instance is being modified'), { name: 'InvalidDBInstanceStateFault' });
    }
    instances.delete(input.DBInstanceIdentifier);
    return {};
  });
  secrets.on(PutSecretValueCommand).callsFake((input: { SecretString: string }) => {
    secretValue = input.SecretString;
    return {};
  });
  secrets.on(GetSecretValueCommand).callsFake(() => ({ SecretString: secretValue }));
  ddb
    .on(GetCommand)
    .callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk === `${MANIFEST_PK_PREFIX}${SNAPSHOT}` && manifest
        ? { Item: { ...input.Key, ...manifest } }
        : {},
    );
  ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
    stateItems.push(input.Item);
    return {};
  });
  cw.on(PutMetricDataCommand).resolves({});
});

type Fault = { state: string; when: 'before' | 'after'; name?: string };

interface DrillRun {
  readonly ok: boolean;
  readonly output?: Record<string, unknown>;
  readonly error?: string;
  readonly cause?: string;
  readonly path: string[];
}

/** Task states of the drill function and the advance of the simulated clock their Wait state stands for. */
const TASK_STATES: Record<string, number> = {
  Start: 0,
  Restore: 0,
  RestoreStatus: 60,
  SetCredentials: 0,
  CredentialsStatus: 30,
  Cleanup: 0,
  Record: 0,
};

async function runDrill(
  input: Record<string, unknown> = { trigger: 'schedule' },
  fault?: Fault,
): Promise<DrillRun> {
  const injected = (state: string, when: 'before' | 'after') => {
    if (fault?.state === state && fault.when === when) {
      fault = undefined; // once: a retry of the state must be able to succeed
      throw Object.assign(new Error(`injected fault in ${state}`), { name: 'InjectedFault' });
    }
  };
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [state, advance] of Object.entries(TASK_STATES)) {
    handlers[state] = async (event) => {
      clock += advance;
      injected(state, 'before');
      const out = await runDrillAction(event as DrillEvent, ctx);
      injected(state, 'after');
      return out;
    };
  }
  handlers.Verify = async (event) => {
    injected('Verify', 'before');
    const out = await verifyDrill(event as VerifierEvent, verifierCtx);
    injected('Verify', 'after');
    return out;
  };
  handlers.PageCleanupFailed = async (event) => {
    pages.push(event);
    return {};
  };
  const machine = new StateMachine(definition, { validationOptions: { checkPaths: false } });
  const zero = Object.fromEntries(Object.keys(definition.States).map((s) => [s, 0]));
  const execution = machine.run(input as Json, {
    overrides: {
      taskResourceLocalHandlers: handlers as unknown as LocalHandlers,
      waitTimeOverrides: zero,
      retryIntervalOverrides: zero,
    },
    context: { Execution: { Name: 'drill-1', StartTime: START } },
  });
  const path: string[] = [];
  let failure: { Error: string; Cause: unknown } | undefined;
  const events = (async () => {
    for await (const e of execution.eventLogs) {
      if (e.type === 'StateEntered') path.push((e as unknown as { state: { name: string } }).state.name);
      if (e.type === 'ExecutionFailed') failure = e as unknown as { Error: string; Cause: unknown };
    }
  })();
  try {
    const output = (await execution.result) as Record<string, unknown>;
    await events;
    return { ok: true, output, path };
  } catch (err) {
    await events;
    if (!(err instanceof ExecutionError)) throw err;
    return { ok: false, error: failure?.Error, cause: String(failure?.Cause ?? ''), path };
  }
}
const pages: unknown[] = [];
beforeEach(() => {
  pages.length = 0;
});

const metricsPublished = (): MetricDatum[] =>
  cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
const metric = (name: string) => metricsPublished().find((m) => m.MetricName === name)?.Value;
const latest = () => stateItems.filter((i) => i.sk === 'latest').at(-1);

describe('the restore drill state machine (synthesized definition, real handlers)', () => {
  it('restores the newest snapshot with a manifest, verifies it, records the result and deletes the copy', async () => {
    const run = await runDrill();

    expect(run.ok).toBe(true);
    expect(run.path.at(-1)).toBe('DrillSucceeded');
    expect(run.path.filter((s) => s === 'RestoreStatus')).toHaveLength(RESTORE_SECONDS / 60);
    // Restored into the isolated, prefixed, tagged drill instance.
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: INSTANCE,
      DBSnapshotIdentifier: SNAPSHOT,
      DBInstanceClass: 'db.t4g.medium',
      DBSubnetGroupName: 'pipeline-guardrails-test-drill',
      VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
      PubliclyAccessible: false,
      DeletionProtection: false,
      Tags: [...TAGS, { Key: 'reason', Value: 'drill' }],
    });
    // The copy's own credentials: the password the drill set, in the drill's secret.
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: INSTANCE,
      MasterUserPassword: 'drill-password',
    });
    expect(JSON.parse(secretValue!)).toMatchObject({
      instanceIdentifier: INSTANCE,
      password: 'drill-password',
    });
    // Deleted, without a final snapshot.
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: INSTANCE,
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
    expect(instances.size).toBe(0);
    // Measured.
    expect(metric(DRILL_METRICS.succeeded)).toBe(1);
    expect(metric(DRILL_METRICS.restoreMinutes)).toBe(RESTORE_SECONDS / 60);
    expect(metric(DRILL_METRICS.checksFailed)).toBe(0);
    expect(metric(DRILL_METRICS.recoveryPointAgeHours)).toBe(24);
    expect(latest()).toMatchObject({
      outcome: 'succeeded',
      snapshotId: SNAPSHOT,
      instanceDeleted: true,
      withinObjective: true,
    });
    expect(stateItems.some((i) => i.sk === 'last-success')).toBe(true);
  });

  it('a failed check (a row missing against the manifest) fails the drill and still deletes the copy', async () => {
    const saved = manifest;
    manifest = {
      ...saved,
      tables: saved.tables.map((t) => (t.key === 'public.events' ? { ...t, count: 501 } : t)),
    };
    try {
      const run = await runDrill();
      expect(run.ok).toBe(false);
      expect(run.error).toBe('DrillChecksFailed');
      expect(run.cause).toMatch(/rows-present public\.events: 1 row\(s\) missing/);
    } finally {
      manifest = saved;
    }
    expect(instances.size).toBe(0);
    expect(metric(DRILL_METRICS.succeeded)).toBe(0);
    expect(metric(DRILL_METRICS.checksFailed)).toBe(1);
    expect(latest()).toMatchObject({ outcome: 'failed', instanceDeleted: true });
    expect(stateItems.some((i) => i.sk === 'last-success')).toBe(false);
  });

  it('a restore that never becomes available times out, is deleted and its time is measured', async () => {
    restoreBehaviour = 'never-available';
    const run = await runDrill();
    expect(run.error).toBe('DrillTimedOut');
    expect(run.path).toContain('Cleanup');
    expect(instances.size).toBe(0);
    // The last status seen before the limit: at least the timeout, so the objective alarm sees it.
    expect(metric(DRILL_METRICS.restoreMinutes)).toBeGreaterThanOrEqual(60);
    expect(latest()).toMatchObject({ outcome: 'timed-out' });
  });

  it('a restore RDS fails is deleted too', async () => {
    restoreBehaviour = 'fails';
    const run = await runDrill();
    expect(run.error).toBe('DrillRestoreFailed');
    expect(instances.size).toBe(0);
  });

  it.each(['Start', 'Restore', 'RestoreStatus', 'SetCredentials', 'CredentialsStatus', 'Verify'])(
    'an error in %s (before and after its work) goes to the cleanup: no instance left, failure recorded',
    async (state) => {
      for (const when of ['before', 'after'] as const) {
        instances.clear();
        stateItems.length = 0;
        const run = await runDrill({ trigger: 'schedule' }, { state, when });
        expect(run.ok).toBe(false);
        expect(run.error).toBe('InjectedFault');
        expect(run.path).toContain('Cleanup');
        expect(run.path.at(-1)).toBe('DrillFailed');
        expect(instances.size).toBe(0);
        expect(latest()).toMatchObject({ outcome: 'error', error: 'InjectedFault' });
      }
    },
  );

  it('a Lambda crash after the restore was requested is retried: the retry finds its own instance', async () => {
    let crashes = 1;
    const run = await runDrillWithLambdaCrash('Restore', () => crashes-- > 0);
    expect(run.ok).toBe(true);
    // The definition's Lambda retry ran Restore again; RDS said the instance exists; it is ours.
    expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toHaveLength(2);
    expect(instances.size).toBe(0);
  });

  it('cleanup waits for an instance that cannot be deleted yet (retries), then deletes it', async () => {
    deleteRefusals = 3;
    const run = await runDrill();
    expect(run.ok).toBe(true);
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toHaveLength(4);
    expect(instances.size).toBe(0);
  });

  it('a cleanup that keeps failing pages directly, is recorded, and fails the drill', async () => {
    deleteRefusals = 1000;
    const run = await runDrill();
    expect(run.ok).toBe(false);
    expect(run.error).toBe('DrillCleanupFailed');
    expect(pages).toHaveLength(1);
    expect(instances.size).toBe(1);
    expect(latest()).toMatchObject({ outcome: 'error', instanceDeleted: false });
  });

  it('a drill that cannot record its result still deleted the instance first', async () => {
    cw.on(PutMetricDataCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const run = await runDrill();
    expect(run.error).toBe('DrillRecordFailed');
    expect(instances.size).toBe(0);
  });

  it('refuses while another drill instance exists, and leaves that instance alone', async () => {
    instances.set('pipeline-guardrails-test-drill-20261124t050000z', {
      DBInstanceIdentifier: 'pipeline-guardrails-test-drill-20261124t050000z',
      DBInstanceStatus: 'available',
      TagList: [...TAGS, { Key: 'reason', Value: 'drill' }],
      readyAt: 0,
    });
    const run = await runDrill();
    expect(run.error).toBe('DrillRefused');
    expect(instances.has('pipeline-guardrails-test-drill-20261124t050000z')).toBe(true);
    expect(rds).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
  });

  it('drills a named snapshot only when it is the tool’s own', async () => {
    const run = await runDrill({ snapshotId: 'someone-elses-snapshot' });
    expect(run.error).toBe('DrillRefused');
    expect(run.cause).toMatch(/not a pipeline-guardrails snapshot of test/);
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
  });
});

/** Runs the drill with a Lambda service error thrown after `state`'s real work while `crash()` says so. */
async function runDrillWithLambdaCrash(state: string, crash: () => boolean): Promise<DrillRun> {
  const machine = new StateMachine(definition, { validationOptions: { checkPaths: false } });
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, advance] of Object.entries(TASK_STATES)) {
    handlers[name] = async (event) => {
      clock += advance;
      const out = await runDrillAction(event as DrillEvent, ctx);
      if (name === state && crash()) {
        throw Object.assign(new Error('Lambda crashed after the call'), { name: 'Lambda.ServiceException' });
      }
      return out;
    };
  }
  handlers.Verify = (event) => verifyDrill(event as VerifierEvent, verifierCtx);
  handlers.PageCleanupFailed = async () => ({});
  const zero = Object.fromEntries(Object.keys(definition.States).map((s) => [s, 0]));
  const execution = machine.run(
    { trigger: 'schedule' },
    {
      overrides: {
        taskResourceLocalHandlers: handlers as unknown as LocalHandlers,
        waitTimeOverrides: zero,
        retryIntervalOverrides: zero,
      },
      context: { Execution: { Name: 'drill-1', StartTime: START } },
    },
  );
  try {
    return { ok: true, output: (await execution.result) as Record<string, unknown>, path: [] };
  } catch (err) {
    if (!(err instanceof ExecutionError)) throw err;
    return { ok: false, error: err.message, path: [] };
  }
}
