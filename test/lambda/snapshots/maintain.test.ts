import {
  CopyDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { copyCandidates, maintenanceMetrics, runMaintenance } from '../../../lambda/snapshots/maintain';
import { toSnapshotInfo } from '../../../lambda/snapshots/rds-snapshots';
import type { RetentionPolicy } from '../../../lambda/snapshots/retention';
import { awsError, dbSnapshot, fakeClock, memoryLogger, ours } from './fixtures';

const source = new RDSClient({ region: 'us-east-1' });
const target = new RDSClient({ region: 'us-west-2' });
const sourceMock = mockClient(source);
const targetMock = mockClient(target);
const NOW = new Date('2026-11-26T12:00:00Z');
const KEY = 'arn:aws:kms:us-west-2:333333333333:key/0a1b2c3d-0000-4000-8000-000000000001';
const KEEP_TWO: RetentionPolicy = {
  daily: 2,
  weekly: 0,
  monthly: 0,
  minimum: 1,
  preShiftDays: 7,
  maxDeletionsPerRun: 20,
};

beforeEach(() => {
  sourceMock.reset();
  targetMock.reset();
});

function options(extra: Partial<Parameters<typeof runMaintenance>[0]> = {}) {
  return {
    envName: 'prod',
    source: { rds: source, region: 'us-east-1', retention: KEEP_TWO },
    dryRun: false,
    now: NOW,
    log: memoryLogger(),
    retry: { clock: fakeClock() },
    ...extra,
  };
}

describe('runMaintenance in the source region', () => {
  it('reads every page, deletes only what retention allows and logs each deletion with its rule', async () => {
    sourceMock
      .on(DescribeDBSnapshotsCommand, { Marker: undefined })
      .resolves({
        DBSnapshots: [ours('d26', '2026-11-26T06:00:00Z'), ours('d25', '2026-11-25T06:00:00Z')],
        Marker: 'next',
      })
      .on(DescribeDBSnapshotsCommand, { Marker: 'next' })
      .resolves({
        DBSnapshots: [
          ours('d24', '2026-11-24T06:00:00Z'),
          dbSnapshot('nba-before-upgrade', '2025-01-01T00:00:00Z', {
            tags: { 'managed-by': 'pipeline-guardrails' },
          }),
          ours('d01', '2026-11-01T06:00:00Z', { status: 'creating' }),
        ],
      });
    sourceMock.on(DeleteDBSnapshotCommand).resolves({});
    const log = memoryLogger();

    const report = await runMaintenance(options({ log }));

    expect(sourceMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 2);
    expect(sourceMock).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 1);
    expect(sourceMock).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'pipeline-guardrails-prod-scheduled-d24',
    });
    expect(log.entries).toContainEqual({
      level: 'info',
      message: 'deleted snapshot',
      fields: expect.objectContaining({
        region: 'us-east-1',
        snapshotId: 'pipeline-guardrails-prod-scheduled-d24',
        rule: 'expired',
        detail: expect.stringMatching(/outside the daily 2/),
        dryRun: false,
      }),
    });
    expect(report.source).toMatchObject({ manualCount: 4, managedCount: 3, foreignCount: 1 });
    expect(report.source.newest?.id).toBe('pipeline-guardrails-prod-scheduled-d26');
    expect(report.failures).toEqual([]);
  });

  it('deletes nothing in a dry run but logs what it would delete', async () => {
    sourceMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ours('a', '2026-11-26T06:00:00Z'),
        ours('b', '2026-11-25T06:00:00Z'),
        ours('c', '2026-11-20T06:00:00Z'),
      ],
    });
    const log = memoryLogger();
    const report = await runMaintenance(options({ dryRun: true, log }));
    expect(sourceMock).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    expect(report.source.deleted.map((d) => d.snapshot.id)).toEqual(['pipeline-guardrails-prod-scheduled-c']);
    expect(log.entries.map((e) => e.message)).toEqual(['would delete snapshot']);
  });

  it('keeps going when a deletion is refused, and reports it as a failure', async () => {
    sourceMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ours('a', '2026-11-26T06:00:00Z'),
        ours('b', '2026-11-20T06:00:00Z'),
        ours('c', '2026-11-10T06:00:00Z'),
        ours('f', '2026-11-26T07:00:00Z', { status: 'failed' }),
      ],
    });
    sourceMock
      .on(DeleteDBSnapshotCommand)
      .resolves({})
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: 'pipeline-guardrails-prod-scheduled-c' })
      .rejects(awsError('InvalidDBSnapshotStateFault', 'snapshot is being shared'));
    const report = await runMaintenance(options());
    expect(sourceMock).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 2);
    expect(report.failures).toEqual([
      'snapshot pipeline-guardrails-prod-scheduled-f in us-east-1 failed',
      'deletion of pipeline-guardrails-prod-scheduled-c in us-east-1 failed: InvalidDBSnapshotStateFault: snapshot is being shared',
    ]);
    expect(report.source.deleted.map((d) => d.rule)).toEqual(['failed']);
    expect(report.source.manualCount).toBe(3);
  });

  it('retries a throttled page of DescribeDBSnapshots', async () => {
    sourceMock
      .on(DescribeDBSnapshotsCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .resolves({ DBSnapshots: [ours('a', '2026-11-26T06:00:00Z')] });
    const clock = fakeClock();
    const report = await runMaintenance(options({ retry: { clock } }));
    expect(sourceMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 2);
    expect(clock.sleeps).toHaveLength(1);
    expect(report.source.managedCount).toBe(1);
  });
});

describe('runMaintenance with a copy region', () => {
  const copy = { rds: target, region: 'us-west-2', kmsKeyArn: KEY, retention: KEEP_TWO };

  it('copies the newest snapshot with the copy key and tags, and applies retention there too', async () => {
    sourceMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ours('new', '2026-11-26T06:00:00Z'),
        ours('mid', '2026-11-25T06:00:00Z'),
        ours('old', '2026-11-24T06:00:00Z'),
      ],
    });
    targetMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ours('mid', '2026-11-25T06:00:00Z', { region: 'us-west-2' }),
        ours('old', '2026-11-24T06:00:00Z', { region: 'us-west-2' }),
        ours('older', '2026-11-20T06:00:00Z', { region: 'us-west-2' }),
      ],
    });
    targetMock.on(CopyDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'pending' } });
    sourceMock.on(DeleteDBSnapshotCommand).resolves({});
    targetMock.on(DeleteDBSnapshotCommand).resolves({});

    const report = await runMaintenance(options({ copy }));

    expect(targetMock).toHaveReceivedCommandTimes(CopyDBSnapshotCommand, 1);
    expect(targetMock).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier:
        'arn:aws:rds:us-east-1:333333333333:snapshot:pipeline-guardrails-prod-scheduled-new',
      TargetDBSnapshotIdentifier: 'pipeline-guardrails-prod-scheduled-new',
      KmsKeyId: KEY,
      Tags: expect.arrayContaining([
        { Key: 'managed-by', Value: 'pipeline-guardrails' },
        { Key: 'environment', Value: 'prod' },
        { Key: 'source-region', Value: 'us-east-1' },
      ]),
    });
    expect(report.copiesStarted).toEqual(['pipeline-guardrails-prod-scheduled-new']);
    // Source keeps new + mid; the copy region keeps the copy in progress, mid and old (daily 2) and drops older.
    expect(sourceMock).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'pipeline-guardrails-prod-scheduled-old',
    });
    expect(targetMock).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 1);
    expect(targetMock).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'pipeline-guardrails-prod-scheduled-older',
    });
    expect(report.copy).toMatchObject({ region: 'us-west-2', managedCount: 3 });
  });

  it('reports a refused copy as a failure and still prunes both regions', async () => {
    sourceMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ours('new', '2026-11-26T06:00:00Z'),
        ours('a', '2026-11-25T06:00:00Z'),
        ours('b', '2026-11-21T06:00:00Z'),
      ],
    });
    targetMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    targetMock.on(CopyDBSnapshotCommand).rejects(awsError('KMSKeyNotAccessibleFault', 'key is disabled'));
    sourceMock.on(DeleteDBSnapshotCommand).resolves({});
    const log = memoryLogger();

    const report = await runMaintenance(options({ copy, log }));

    expect(report.failures).toEqual([
      'copy of pipeline-guardrails-prod-scheduled-new to us-west-2 failed: KMSKeyNotAccessibleFault: key is disabled',
    ]);
    expect(report.copiesStarted).toEqual([]);
    expect(sourceMock).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'pipeline-guardrails-prod-scheduled-b',
    });
    expect(log.entries.filter((e) => e.level === 'error').map((e) => e.message)).toEqual(['copy failed']);
  });

  it('reports a copy that RDS marked failed in the copy region', async () => {
    sourceMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [ours('new', '2026-11-26T06:00:00Z')] });
    targetMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [ours('new', '2026-11-26T06:00:00Z', { region: 'us-west-2', status: 'failed' })],
    });
    targetMock.on(DeleteDBSnapshotCommand).resolves({});
    const report = await runMaintenance(options({ copy }));
    expect(report.failures).toEqual(['snapshot pipeline-guardrails-prod-scheduled-new in us-west-2 failed']);
    expect(targetMock).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
  });

  it('copies nothing in a dry run and nothing when not asked to', async () => {
    sourceMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [ours('new', '2026-11-26T06:00:00Z')] });
    targetMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    const dry = await runMaintenance(options({ copy, dryRun: true }));
    expect(dry.copiesStarted).toEqual(['pipeline-guardrails-prod-scheduled-new']);
    await runMaintenance(options({ copy, startCopies: false }));
    expect(targetMock).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
  });
});

describe('copyCandidates', () => {
  const src = [
    ours('a', '2026-11-20T00:00:00Z'),
    ours('b', '2026-11-21T00:00:00Z'),
    ours('c', '2026-11-22T00:00:00Z'),
    ours('d', '2026-11-23T00:00:00Z', { status: 'creating' }),
    dbSnapshot('human', '2026-11-24T00:00:00Z'),
  ].map(toSnapshotInfo);

  it('copies only the newest available one into an empty region', () => {
    expect(copyCandidates(src, [], 'prod', 5).map((s) => s.id)).toEqual([
      'pipeline-guardrails-prod-scheduled-c',
    ]);
  });

  it('copies what is newer than the newest copy, oldest first, up to the limit', () => {
    const copies = [toSnapshotInfo(ours('a', '2026-11-20T00:00:00Z'))];
    expect(copyCandidates(src, copies, 'prod', 5).map((s) => s.id)).toEqual([
      'pipeline-guardrails-prod-scheduled-b',
      'pipeline-guardrails-prod-scheduled-c',
    ]);
    expect(copyCandidates(src, copies, 'prod', 1).map((s) => s.id)).toEqual([
      'pipeline-guardrails-prod-scheduled-b',
    ]);
  });
});

describe('maintenanceMetrics', () => {
  it('publishes count and age per region, and failures (no quota share: nothing reads it)', async () => {
    sourceMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ours('a', '2026-11-26T09:00:00Z'),
        ...Array.from({ length: 79 }, (_, i) => dbSnapshot(`x${i}`, '2026-01-01T00:00:00Z')),
      ],
    });
    const report = await runMaintenance(options());
    const data = maintenanceMetrics(report, 'prod', NOW, 2);
    const value = (name: string) => data.find((d) => d.MetricName === name)?.Value;
    expect(value('ManualSnapshotCount')).toBe(80);
    expect(value('ManualSnapshotQuotaUsedPercent')).toBeUndefined();
    expect(value('NewestSnapshotAgeMinutes')).toBe(180);
    expect(value('SnapshotFailures')).toBe(2);
    expect(data.find((d) => d.MetricName === 'ManualSnapshotCount')?.Dimensions).toEqual([
      { Name: 'Environment', Value: 'prod' },
      { Name: 'Region', Value: 'us-east-1' },
    ]);
  });

  it('counts the age from the first snapshot in progress until one is available', async () => {
    sourceMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ours('first', '2026-11-26T11:00:00Z', { status: 'creating' }),
        ours('second', '2026-11-26T11:30:00Z', { status: 'creating' }),
      ],
    });
    const report = await runMaintenance(options());
    const age = maintenanceMetrics(report, 'prod', NOW).find(
      (d) => d.MetricName === 'NewestSnapshotAgeMinutes',
    );
    expect(age?.Value).toBe(60);
  });

  it('leaves the age out when there is no snapshot, so the age alarm sees missing data', async () => {
    sourceMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    const report = await runMaintenance(options());
    const names = maintenanceMetrics(report, 'prod', NOW).map((d) => d.MetricName);
    expect(names).not.toContain('NewestSnapshotAgeMinutes');
    expect(names).toContain('ManualSnapshotCount');
  });
});
