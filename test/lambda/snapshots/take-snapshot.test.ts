import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { isValidSnapshotIdentifier, snapshotIdentifier } from '../../../lambda/snapshots/naming';
import {
  QuotaExceededError,
  SnapshotFailedError,
  SnapshotTimeoutError,
  takeSnapshot,
} from '../../../lambda/snapshots/take-snapshot';
import { awsError, dbSnapshot, fakeClock, ours } from './fixtures';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'us-east-1' });
const NOW = new Date('2026-11-26T01:30:00.000Z');
const ID = 'pipeline-guardrails-prod-pre-shift-20261126t013000z';

beforeEach(() => rdsMock.reset());

function emptyRegion() {
  rdsMock.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
}

const base = {
  envName: 'prod',
  instanceIdentifier: 'nba-analytics-prod',
  reason: 'pre-shift',
  now: NOW,
} as const;

describe('snapshot identifiers', () => {
  it('are <project>-<env>-<reason>-<UTC timestamp> and valid for RDS', () => {
    expect(snapshotIdentifier('prod', 'pre-shift', NOW)).toBe(ID);
    expect(isValidSnapshotIdentifier(ID)).toBe(true);
    expect(snapshotIdentifier('dev', 'scheduled', new Date('2027-01-02T03:04:05.678Z'))).toBe(
      'pipeline-guardrails-dev-scheduled-20270102t030405z',
    );
  });

  it('rejects what RDS rejects', () => {
    expect(isValidSnapshotIdentifier('1abc')).toBe(false);
    expect(isValidSnapshotIdentifier('a--b')).toBe(false);
    expect(isValidSnapshotIdentifier('abc-')).toBe(false);
    expect(isValidSnapshotIdentifier('a_b')).toBe(false);
    expect(() => snapshotIdentifier('bad_env', 'manual', NOW)).toThrow(/not a valid RDS snapshot identifier/);
  });
});

describe('takeSnapshot', () => {
  it('creates a tagged snapshot of the instance and returns at once without wait', async () => {
    emptyRegion();
    rdsMock.on(CreateDBSnapshotCommand).resolves({
      DBSnapshot: {
        DBSnapshotIdentifier: ID,
        DBSnapshotArn: `arn:aws:rds:us-east-1:1:snapshot:${ID}`,
        Status: 'creating',
      },
    });
    const result = await takeSnapshot(rds, { ...base, clock: fakeClock() });
    expect(result).toMatchObject({
      snapshotId: ID,
      status: 'creating',
      snapshotArn: `arn:aws:rds:us-east-1:1:snapshot:${ID}`,
    });
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'nba-analytics-prod',
      DBSnapshotIdentifier: ID,
      Tags: [
        { Key: 'managed-by', Value: 'pipeline-guardrails' },
        { Key: 'environment', Value: 'prod' },
        { Key: 'reason', Value: 'pre-shift' },
      ],
    });
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 1);
  });

  it('counts every page of manual snapshots and refuses at the quota, naming what to prune', async () => {
    const page = (n: number, offset: number) =>
      Array.from({ length: n }, (_, i) =>
        i % 2 === 0
          ? ours(
              `2026${String(offset + i).padStart(6, '0')}`,
              new Date(Date.UTC(2026, 0, 1) + (offset + i) * 3_600_000).toISOString(),
            )
          : dbSnapshot(`someone-elses-${offset + i}`, '2026-01-01T00:00:00Z'),
      );
    rdsMock
      .on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual', Marker: undefined })
      .resolves({ DBSnapshots: page(40, 0), Marker: 'm1' })
      .on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual', Marker: 'm1' })
      .resolves({ DBSnapshots: page(40, 40), Marker: 'm2' })
      .on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual', Marker: 'm2' })
      .resolves({ DBSnapshots: page(20, 80) });

    const attempt = takeSnapshot(rds, { ...base, clock: fakeClock() });
    await expect(attempt).rejects.toThrow(QuotaExceededError);
    await expect(takeSnapshot(rds, { ...base, clock: fakeClock() })).rejects.toThrow(
      /us-east-1 has 100 of 100 manual DB snapshots \(50 made by pipeline-guardrails for prod, 50 by others[^)]*\)[\s\S]*npm run snapshot -- --env prod --prune --dry-run[\s\S]*oldest first: pipeline-guardrails-prod-scheduled-2026000000, pipeline-guardrails-prod-scheduled-2026000002,/,
    );
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 6);
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
  });

  it('creates the 100th snapshot under a limit of 100, and honours a configured lower limit', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: Array.from({ length: 99 }, (_, i) => dbSnapshot(`other-${i}`, '2026-01-01T00:00:00Z')),
    });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    await expect(takeSnapshot(rds, { ...base, clock: fakeClock() })).resolves.toMatchObject({
      snapshotId: ID,
    });
    const refused = takeSnapshot(rds, { ...base, quotaLimit: 99, clock: fakeClock() });
    await expect(refused).rejects.toMatchObject({
      name: 'QuotaExceededError',
      used: 99,
      limit: 99,
      pruneCandidates: [],
    });
  });

  it('turns RDS SnapshotQuotaExceededFault into a QuotaExceededError', async () => {
    emptyRegion();
    rdsMock.on(CreateDBSnapshotCommand).rejects(awsError('SnapshotQuotaExceededFault', 'quota reached'));
    await expect(takeSnapshot(rds, { ...base, clock: fakeClock() })).rejects.toThrow(
      /quota is exhausted \(quota reached\)\. Prune first/,
    );
  });

  it('reports an instance it cannot snapshot as a SnapshotFailedError', async () => {
    emptyRegion();
    rdsMock
      .on(CreateDBSnapshotCommand)
      .rejects(awsError('InvalidDBInstanceStateFault', 'instance is stopped'));
    await expect(takeSnapshot(rds, { ...base, clock: fakeClock() })).rejects.toThrow(SnapshotFailedError);
  });

  it('waits until available, reporting status, elapsed time and percent', async () => {
    emptyRegion();
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    rdsMock
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: ID })
      .resolvesOnce({
        DBSnapshots: [{ ...dbSnapshot(ID, undefined, { status: 'creating' }), PercentProgress: 10 }],
      })
      .resolvesOnce({
        DBSnapshots: [{ ...dbSnapshot(ID, undefined, { status: 'creating' }), PercentProgress: 60 }],
      })
      .resolves({ DBSnapshots: [{ ...dbSnapshot(ID, '2026-11-26T01:30:00Z'), PercentProgress: 100 }] });
    const progress: [string, number, number | undefined][] = [];
    const clock = fakeClock();
    const result = await takeSnapshot(rds, {
      ...base,
      clock,
      wait: { timeoutMs: 600_000, pollIntervalMs: 20_000, onProgress: (s, e, p) => progress.push([s, e, p]) },
    });
    expect(progress).toEqual([
      ['creating', 0, 10],
      ['creating', 20_000, 60],
      ['available', 40_000, 100],
    ]);
    expect(result).toEqual({
      snapshotId: ID,
      snapshotArn: `arn:aws:rds:us-east-1:333333333333:snapshot:${ID}`,
      status: 'available',
      elapsedMs: 40_000,
    });
  });

  it('gives up on a snapshot stuck in creating with a SnapshotTimeoutError naming it', async () => {
    emptyRegion();
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    rdsMock
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: ID })
      .resolves({ DBSnapshots: [dbSnapshot(ID, undefined, { status: 'creating' })] });
    const clock = fakeClock();
    const attempt = takeSnapshot(rds, {
      ...base,
      clock,
      wait: { timeoutMs: 60_000, pollIntervalMs: 15_000 },
    });
    await expect(attempt).rejects.toThrow(SnapshotTimeoutError);
    await expect(attempt).rejects.toMatchObject({ snapshotId: ID, lastStatus: 'creating' });
    expect(clock.sleeps).toEqual([15_000, 15_000, 15_000, 15_000]);
    expect(clock.now() - Date.UTC(2026, 10, 26, 1, 30)).toBeLessThanOrEqual(60_000);
  });

  it('fails when the snapshot ends in failed or disappears', async () => {
    emptyRegion();
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    rdsMock
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: ID })
      .resolvesOnce({ DBSnapshots: [dbSnapshot(ID, undefined, { status: 'failed' })] })
      .rejects(awsError('DBSnapshotNotFoundFault', 'gone', 404));
    const opts = { ...base, wait: { timeoutMs: 60_000, pollIntervalMs: 1000 } };
    await expect(takeSnapshot(rds, { ...opts, clock: fakeClock() })).rejects.toThrow(/failed \(failed\)/);
    await expect(takeSnapshot(rds, { ...opts, clock: fakeClock() })).rejects.toThrow(/failed \(missing\)/);
  });

  it('retries throttled calls with growing, jittered backoff, then succeeds', async () => {
    emptyRegion();
    rdsMock
      .on(CreateDBSnapshotCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .resolves({ DBSnapshot: { Status: 'creating' } });
    const clock = fakeClock();
    const result = await takeSnapshot(rds, {
      ...base,
      clock,
      retry: { random: () => 0.5, baseDelayMs: 100 },
    });
    expect(result.snapshotId).toBe(ID);
    expect(rdsMock).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 3);
    expect(clock.sleeps).toEqual([50, 100]);
  });

  it('stops retrying after the last attempt and does not retry other errors', async () => {
    emptyRegion();
    rdsMock.on(CreateDBSnapshotCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const clock = fakeClock();
    await expect(takeSnapshot(rds, { ...base, clock, retry: { attempts: 4 } })).rejects.toThrow(
      'Rate exceeded',
    );
    expect(rdsMock).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 4);
    expect(clock.sleeps).toHaveLength(3);

    rdsMock.reset();
    emptyRegion();
    rdsMock.on(CreateDBSnapshotCommand).rejects(awsError('AccessDenied', 'no', 403));
    await expect(takeSnapshot(rds, { ...base, clock: fakeClock() })).rejects.toThrow('no');
    expect(rdsMock).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 1);
  });
});
