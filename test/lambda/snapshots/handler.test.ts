import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  parseRetention,
  readSettings,
  runSnapshotJob,
  type SnapshotSettings,
} from '../../../lambda/snapshots/handler';
import { MissingEnvironmentVariableError } from '../../../lambda/shared/env';
import { awsError, dbSnapshot, memoryLogger, ours } from './fixtures';

const rds = new RDSClient({ region: 'us-east-1' });
const cloudwatch = new CloudWatchClient({ region: 'us-east-1' });
const rdsMock = mockClient(rds);
const cwMock = mockClient(cloudwatch);
const NOW = new Date('2026-11-26T12:00:00Z');

const settings: SnapshotSettings = {
  envName: 'prod',
  region: 'us-east-1',
  instanceIdentifier: 'nba-analytics-prod',
  quotaLimit: 100,
  retention: { daily: 1, weekly: 0, monthly: 0, minimum: 1, preShiftDays: 7, maxDeletionsPerRun: 20 },
};
const deps = () => ({ rds, cloudwatch, log: memoryLogger(), now: () => NOW });

beforeEach(() => {
  rdsMock.reset();
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
});

describe('runSnapshotJob', () => {
  it('snapshot: takes a scheduled snapshot, prunes, and publishes the metrics', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [ours('a', '2026-11-26T06:00:00Z'), ours('b', '2026-11-20T06:00:00Z')],
    });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    rdsMock.on(DeleteDBSnapshotCommand).resolves({});

    const summary = await runSnapshotJob({ action: 'snapshot' }, settings, deps());

    expect(summary).toEqual({
      action: 'snapshot',
      snapshotId: 'pipeline-guardrails-prod-scheduled-20261126t120000z',
      deleted: 1,
      copiesStarted: 0,
      failures: [],
    });
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'nba-analytics-prod',
      Tags: expect.arrayContaining([{ Key: 'reason', Value: 'scheduled' }]),
    });
    expect(cwMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      Namespace: 'PipelineGuardrails',
      MetricData: expect.arrayContaining([
        expect.objectContaining({ MetricName: 'NewestSnapshotAgeMinutes', Value: 360 }),
      ]),
    });
    // No failure, no failure datapoint (its alarm treats missing data as not breaching).
    const names = cwMock
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData ?? [])
      .map((d) => d.MetricName);
    expect(names).not.toContain('SnapshotFailures');
  });

  it('snapshot: a refused snapshot is a published failure, and the upkeep still runs', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [ours('a', '2026-11-26T06:00:00Z')] });
    rdsMock
      .on(CreateDBSnapshotCommand)
      .rejects(awsError('InvalidDBInstanceStateFault', 'instance is stopped'));
    const summary = await runSnapshotJob({ action: 'snapshot' }, settings, deps());
    expect(summary.failures).toEqual([
      expect.stringMatching(/scheduled snapshot failed: SnapshotFailedError: .*instance is stopped/),
    ]);
    expect(cwMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      MetricData: expect.arrayContaining([
        expect.objectContaining({ MetricName: 'SnapshotFailures', Value: 1 }),
      ]),
    });
  });

  it('snapshot: prunes first, so its own expired snapshots never block the new one at the quota', async () => {
    // A tiny stateful RDS: 100 manual snapshots, 30 of them this tool's (one a day), 70 someone else's.
    const region = new Map(
      [
        ...Array.from({ length: 30 }, (_, i) =>
          ours(`d${i}`, new Date(Date.UTC(2026, 10, 25 - i, 6)).toISOString()),
        ),
        ...Array.from({ length: 70 }, (_, i) => dbSnapshot(`other-${i}`, '2026-01-01T00:00:00Z')),
      ].map((s) => [s.DBSnapshotIdentifier as string, s]),
    );
    rdsMock.on(DescribeDBSnapshotsCommand).callsFake(async () => ({ DBSnapshots: [...region.values()] }));
    rdsMock.on(DeleteDBSnapshotCommand).callsFake(async (input: { DBSnapshotIdentifier: string }) => {
      region.delete(input.DBSnapshotIdentifier);
      return {};
    });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });

    const summary = await runSnapshotJob({ action: 'snapshot' }, settings, deps());

    expect(summary.deleted).toBe(20); // maxDeletionsPerRun
    expect(summary.failures).toEqual([]);
    expect(summary.snapshotId).toBe('pipeline-guardrails-prod-scheduled-20261126t120000z');
    expect(region.has('other-0')).toBe(true);
  });

  it('maintain: takes the first snapshot of an environment that has none', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    const summary = await runSnapshotJob({ action: 'maintain' }, settings, deps());
    expect(summary.snapshotId).toBe('pipeline-guardrails-prod-scheduled-20261126t120000z');
  });

  it('maintain: does not snapshot when one exists, and a dry run changes nothing', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [ours('a', '2026-11-26T06:00:00Z'), ours('b', '2026-11-20T06:00:00Z')],
    });
    const summary = await runSnapshotJob({ action: 'maintain', dryRun: true }, settings, deps());
    expect(summary.deleted).toBe(1);
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(rdsMock).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('publishes a failure and rethrows when the run breaks', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(awsError('AccessDenied', 'not authorized', 403));
    await expect(runSnapshotJob({}, settings, deps())).rejects.toThrow('not authorized');
    expect(cwMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      MetricData: [expect.objectContaining({ MetricName: 'SnapshotFailures', Value: 1 })],
    });
  });
});

describe('readSettings', () => {
  const retention = JSON.stringify(settings.retention);
  const env = {
    ENV_NAME: 'prod',
    AWS_REGION: 'us-east-1',
    INSTANCE_IDENTIFIER: 'nba-analytics-prod',
    QUOTA_LIMIT: '100',
    RETENTION: retention,
  };

  it('reads the function environment, with and without a copy region', () => {
    expect(readSettings(env)).toEqual({ ...settings, copy: undefined });
    const copy = { COPY_REGION: 'us-west-2', COPY_KMS_KEY_ARN: 'arn:k', COPY_RETENTION: retention };
    expect(readSettings({ ...env, ...copy }).copy).toEqual({
      region: 'us-west-2',
      kmsKeyArn: 'arn:k',
      retention: settings.retention,
    });
  });

  it('names what is missing or wrong', () => {
    expect(() => readSettings({ ...env, INSTANCE_IDENTIFIER: '' })).toThrow(MissingEnvironmentVariableError);
    expect(() => readSettings({ ...env, COPY_REGION: 'us-west-2' })).toThrow(/COPY_KMS_KEY_ARN/);
    expect(() => readSettings({ ...env, QUOTA_LIMIT: 'x' })).toThrow(
      /QUOTA_LIMIT must be a positive integer/,
    );
    expect(() => parseRetention('RETENTION', '{')).toThrow(/RETENTION is not JSON/);
    expect(() => parseRetention('RETENTION', JSON.stringify({ ...settings.retention, daily: -1 }))).toThrow(
      /RETENTION.daily is -1, expected an integer >= 0/,
    );
    expect(() => parseRetention('RETENTION', JSON.stringify({ ...settings.retention, minimum: 0 }))).toThrow(
      /minimum must be at least 1/,
    );
  });
});
