import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runSnapshotJob, type SnapshotSettings } from '../../../lambda/snapshots/handler';
import { drillUpkeepMetrics, runDrillUpkeep } from '../../../lambda/snapshots/maintain';
import { awsError, memoryLogger, ours } from './fixtures';

/**
 * The snapshot function's part of the restore drill: the manifest recorded at snapshot time (read BEFORE
 * the request, never blocking the snapshot) and the upkeep's sweep of leaked drill instances.
 */
const rds = new RDSClient({ region: 'us-east-1' });
const cloudwatch = new CloudWatchClient({ region: 'us-east-1' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const rdsMock = mockClient(rds);
const cwMock = mockClient(cloudwatch);
const ddbMock = mockClient(doc);
const NOW = new Date('2026-11-26T12:00:00Z');
const SNAPSHOT = 'pipeline-guardrails-prod-scheduled-20261126t120000z';

const settings: SnapshotSettings = {
  envName: 'prod',
  region: 'us-east-1',
  instanceIdentifier: 'nba-analytics-prod',
  quotaLimit: 100,
  retention: { daily: 1, weekly: 0, monthly: 0, minimum: 1, preShiftDays: 7, maxDeletionsPerRun: 20 },
  stateTableName: 'state',
  manifestTableKeys: ['public.games', 'public.events'],
  drillLimitMinutes: 330,
};
const FP = {
  hash: 'abc',
  columns: [{ name: 'game_id', type: 'integer', notNull: true }],
  primaryKey: ['game_id'],
};
const BASELINE = {
  key: 'public.games',
  oid: 1,
  relfilenode: 1,
  count: 44_828,
  countedAt: '2026-11-26T11:59:00Z',
  counters: { ins: 0, upd: 0, del: 0, mod: 0, analyzes: 0 },
  epoch: 'e',
  rollbacks: 0,
  fingerprint: FP,
};
const drillTags = [
  { Key: 'managed-by', Value: 'pipeline-guardrails' },
  { Key: 'environment', Value: 'prod' },
  { Key: 'reason', Value: 'drill' },
];

beforeEach(() => {
  rdsMock.reset();
  cwMock.reset();
  ddbMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
  rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [ours('a', '2026-11-26T06:00:00Z')] });
  rdsMock.on(DeleteDBSnapshotCommand).resolves({});
  rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
  ddbMock.on(GetCommand).resolves({});
});

const deps = () => ({ rds, cloudwatch, doc, log: memoryLogger(), now: () => NOW });

describe('the manifest recorded with a scheduled snapshot', () => {
  it('reads the checker baselines before requesting the snapshot and saves them under the snapshot id', async () => {
    const order: string[] = [];
    ddbMock.on(BatchGetCommand).callsFake(() => {
      order.push('read baselines');
      return { Responses: { state: [{ pk: 'checks#table#public.games', sk: 'baseline', ...BASELINE }] } };
    });
    rdsMock.on(CreateDBSnapshotCommand).callsFake(() => {
      order.push('create snapshot');
      return { DBSnapshot: { Status: 'creating' } };
    });
    ddbMock.on(PutCommand).callsFake(() => {
      order.push('save manifest');
      return {};
    });

    const summary = await runSnapshotJob({ action: 'snapshot' }, settings, deps());

    expect(summary.failures).toEqual([]);
    expect(order).toEqual(['read baselines', 'create snapshot', 'save manifest']);
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'state',
      Item: {
        pk: `snapshot-manifest#${SNAPSHOT}`,
        sk: 'manifest',
        snapshotId: SNAPSHOT,
        capturedAt: NOW.toISOString(),
        tables: [
          {
            key: 'public.games',
            count: 44_828,
            countedAt: '2026-11-26T11:59:00Z',
            fingerprint: { ...FP, dropped: [] },
          },
        ],
        missing: ['public.events'],
      },
    });
  });

  it('takes the snapshot even when the manifest cannot be read, and reports it as a failure', async () => {
    ddbMock.on(BatchGetCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    const summary = await runSnapshotJob({ action: 'snapshot' }, settings, deps());
    expect(summary.snapshotId).toBe(SNAPSHOT);
    expect(summary.failures).toEqual([
      `manifest of ${SNAPSHOT} not recorded: cannot read the checker's state for the manifest: not authorized`,
    ]);
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
    expect(cwMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      MetricData: expect.arrayContaining([
        expect.objectContaining({ MetricName: 'SnapshotFailures', Value: 1 }),
      ]),
    });
  });

  it('reports a manifest that cannot be saved (the snapshot stands)', async () => {
    ddbMock.on(BatchGetCommand).resolves({ Responses: { state: [] } });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    ddbMock.on(PutCommand).rejects(awsError('ProvisionedThroughputExceededException', 'slow down'));
    const summary = await runSnapshotJob({ action: 'snapshot' }, settings, deps());
    expect(summary.snapshotId).toBe(SNAPSHOT);
    expect(summary.failures[0]).toMatch(/^manifest of .* not recorded: cannot save the manifest/);
  });

  it('records no manifest when the function has no state table (older deployments)', async () => {
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    const { stateTableName: _t, manifestTableKeys: _k, drillLimitMinutes: _l, ...plain } = settings;
    const summary = await runSnapshotJob({ action: 'snapshot' }, plain, deps());
    expect(summary.failures).toEqual([]);
    expect(ddbMock).not.toHaveReceivedCommand(BatchGetCommand);
  });
});

describe('the upkeep sweep of leaked drill instances', () => {
  const instance = (id: string, created: string | undefined, tags = drillTags, status = 'available') => ({
    DBInstanceIdentifier: id,
    DBInstanceStatus: status,
    InstanceCreateTime: created ? new Date(created) : undefined,
    TagList: tags,
  });
  const opts = (dryRun = false) => ({
    envName: 'prod',
    rds,
    doc,
    stateTableName: 'state',
    limitMinutes: 330,
    dryRun,
    now: NOW,
    log: memoryLogger(),
  });

  it('deletes only prefixed, drill-tagged instances older than the limit, without a final snapshot', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        // Leaked: started 7 h ago (limit 5.5 h).
        instance('pipeline-guardrails-prod-drill-20261126t050000z', '2026-11-26T05:01:00Z'),
        // A live drill: 1 h old.
        instance('pipeline-guardrails-prod-drill-20261126t110000z', '2026-11-26T11:01:00Z'),
        // Still creating (no creation time yet): its name says it started 8 h ago.
        instance('pipeline-guardrails-prod-drill-20261126t040000z', undefined, drillTags, 'creating'),
        // Prefixed but not tagged as a drill: not ours.
        instance('pipeline-guardrails-prod-drill-20261120t050000z', '2026-11-20T05:00:00Z', []),
        // Another environment's drill.
        instance('pipeline-guardrails-staging-drill-20261120t050000z', '2026-11-20T05:00:00Z', [
          { Key: 'managed-by', Value: 'pipeline-guardrails' },
          { Key: 'environment', Value: 'staging' },
          { Key: 'reason', Value: 'drill' },
        ]),
        // The production database.
        instance('nba-analytics-prod', '2024-01-01T00:00:00Z', []),
        // Already being deleted.
        instance(
          'pipeline-guardrails-prod-drill-20261125t050000z',
          '2026-11-25T05:00:00Z',
          drillTags,
          'deleting',
        ),
      ],
    });
    rdsMock.on(DeleteDBInstanceCommand).resolves({});

    const report = await runDrillUpkeep(opts());

    expect(report.leaked).toEqual([
      'pipeline-guardrails-prod-drill-20261126t050000z',
      'pipeline-guardrails-prod-drill-20261126t040000z',
    ]);
    expect(report.deleted).toEqual(report.leaked);
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand).map((c) => c.args[0].input)).toEqual(
      report.leaked.map((id) => ({
        DBInstanceIdentifier: id,
        SkipFinalSnapshot: true,
        DeleteAutomatedBackups: true,
      })),
    );
  });

  it('a dry run deletes nothing; a refused deletion is a failure, retried by the next run', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [instance('pipeline-guardrails-prod-drill-20261126t050000z', '2026-11-26T05:01:00Z')],
    });
    expect((await runDrillUpkeep(opts(true))).leaked).toHaveLength(1);
    expect(rdsMock).not.toHaveReceivedCommand(DeleteDBInstanceCommand);
    rdsMock.on(DeleteDBInstanceCommand).rejects(awsError('InvalidDBInstanceStateFault', 'modifying'));
    const report = await runDrillUpkeep(opts());
    expect(report.deleted).toEqual([]);
    expect(report.failures[0]).toMatch(
      /deletion of leaked drill instance .* failed: InvalidDBInstanceStateFault/,
    );
  });

  it('publishes the days since the last successful drill every run, the leak count only when one leaked', async () => {
    ddbMock
      .on(GetCommand, { Key: { pk: 'drill#result', sk: 'last-success' } })
      .resolves({ Item: { finishedAt: '2026-11-23T12:00:00Z' } });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    await runSnapshotJob({ action: 'maintain' }, settings, deps());
    expect(cwMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      MetricData: expect.arrayContaining([
        expect.objectContaining({ MetricName: 'RestoreDrillDaysSinceSuccess', Value: 3 }),
      ]),
    });
    // Clean: no leak datapoint (its alarm treats missing data as not breaching, so a 0 would say nothing more).
    const names = cwMock
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData ?? [])
      .map((d) => d.MetricName);
    expect(names).not.toContain('RestoreDrillInstancesLeaked');
    const leaked = drillUpkeepMetrics(
      { leaked: ['i-1'], deleted: ['i-1'], failures: [] },
      'prod',
      new Date(0),
    );
    expect(leaked).toEqual([
      expect.objectContaining({ MetricName: 'RestoreDrillInstancesLeaked', Value: 1 }),
    ]);
  });

  it('publishes no days-since-success before any drill succeeded (its alarm treats silence as breaching)', async () => {
    const report = await runDrillUpkeep(opts());
    expect(report.daysSinceSuccess).toBeUndefined();
  });
});
