import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  readAutoRollbackArming,
  readParity,
  readRestoreDrill,
  type AdapterContext,
} from '../../cli/status/adapters';
import { AUTO_ROLLBACK_PARAMETER } from '../../lambda/shared/auto-rollback-policy';
import { STATE_KEYS } from '../../lib/project';
import type { StatusDeps } from '../../cli/status/sections';
import { Deployment } from '../../cli/deployed';
import { PARITY_GATE_PARAMETER } from '../../lambda/shared/parity-gate';
import type { ParitySummary } from '../../lambda/shared/parity-summary';

const NOW = Date.parse('2026-11-26T02:00:00Z');
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);

const PAIRS = [
  { name: 'games', maxDifferences: 0, maxAgeMinutes: 120 },
  { name: 'box-score-players', maxDifferences: 0, maxAgeMinutes: 120 },
];

function ctx(params: Record<string, string>): AdapterContext {
  return {
    envName: 'prod',
    deployment: new Deployment('prod', new Map(Object.entries(params))),
    deps: { doc } as unknown as StatusDeps,
    nowMs: NOW,
  };
}
const deployed = ctx({ [PARITY_GATE_PARAMETER]: JSON.stringify(PAIRS), 'state/table-name': 'state' });

function summary(pair: string, over: Partial<ParitySummary> = {}): ParitySummary {
  return {
    pair,
    status: 'identical',
    checkedAt: new Date(NOW - 30 * 60_000).toISOString(),
    differences: 0,
    maxDifferences: 0,
    onlyInBlue: 0,
    onlyInGreen: 0,
    changed: 0,
    duplicateKeys: { blue: 0, green: 0 },
    nullKeys: { blue: 0, green: 0 },
    rows: { blue: 10, green: 10 },
    comparedShare: 1,
    ...over,
  };
}
const stored = (...items: ParitySummary[]) =>
  ddb.on(QueryCommand).resolves({ Items: items.map((s) => ({ pk: 'parity', sk: `pair#${s.pair}`, ...s })) });

beforeEach(() => ddb.reset());

describe('status parity adapter', () => {
  it('not configured without pairs, and reads nothing', async () => {
    expect(await readParity(ctx({ 'state/table-name': 'state' }))).toMatchObject({
      available: false,
      why: 'not-configured',
    });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('no data before the first run', async () => {
    stored();
    expect(await readParity(deployed)).toMatchObject({ available: false, why: 'no-data' });
  });

  it('a match only when every pair is fresh and within maxDifferences', async () => {
    stored(summary('games'), summary('box-score-players'));
    expect(await readParity(deployed)).toEqual({
      available: true,
      value: expect.objectContaining({ outcome: 'match', detail: '2 of 2 pair(s) within maxDifferences' }),
    });
  });

  it('a mismatch names the pair, a missing pair is not a match', async () => {
    stored(summary('games', { status: 'different', differences: 3, changed: 3 }));
    const r = await readParity(deployed);
    expect(r).toMatchObject({ available: true, value: { outcome: 'mismatch' } });
    const detail = r.available ? (r.value.detail ?? '') : '';
    expect(detail).toMatch(/parity games: 3 difference\(s\)/);
    expect(detail).toMatch(/parity box-score-players: no result recorded yet/);
  });

  it('an error result is an error', async () => {
    stored(summary('games', { status: 'error', failure: 'timeout' }), summary('box-score-players'));
    expect(await readParity(deployed)).toMatchObject({ available: true, value: { outcome: 'error' } });
  });
});

describe('status restore-drill adapter', () => {
  const drillDeployed = ctx({
    'snapshots/drill-state-machine-arn': 'arn:aws:states:us-east-1:333333333333:stateMachine:d',
    'state/table-name': 'state',
  });
  const latest = (item: Record<string, unknown> | undefined) =>
    ddb.on(GetCommand, { Key: { pk: 'drill#result', sk: 'latest' } }).resolves({ Item: item });

  it('not configured without a drill, and reads nothing', async () => {
    expect(await readRestoreDrill(ctx({ 'state/table-name': 'state' }))).toMatchObject({
      available: false,
      why: 'not-configured',
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('no data before the first drill', async () => {
    latest(undefined);
    expect(await readRestoreDrill(drillDeployed)).toMatchObject({ available: false, why: 'no-data' });
  });

  it('a passed drill with its restore time and snapshot', async () => {
    latest({
      outcome: 'succeeded',
      finishedAt: '2026-11-25T03:00:00Z',
      snapshotId: 'pipeline-guardrails-prod-scheduled-x',
      restoreSeconds: 840,
      checksFailed: 0,
      instanceDeleted: true,
    });
    expect(await readRestoreDrill(drillDeployed)).toEqual({
      available: true,
      value: {
        at: '2026-11-25T03:00:00Z',
        outcome: 'passed',
        snapshotId: 'pipeline-guardrails-prod-scheduled-x',
        detail: 'restored in 14m',
      },
    });
  });

  it('a failed check, or a drill instance left behind, is a failure', async () => {
    latest({ outcome: 'failed', finishedAt: '2026-11-25T03:00:00Z', checksFailed: 2, instanceDeleted: true });
    expect(await readRestoreDrill(drillDeployed)).toMatchObject({
      value: { outcome: 'failed', detail: '2 check(s) failed, failed' },
    });
    latest({ outcome: 'succeeded', finishedAt: '2026-11-25T03:00:00Z', instanceDeleted: false });
    expect(await readRestoreDrill(drillDeployed)).toMatchObject({
      value: { outcome: 'failed', detail: 'DRILL INSTANCE NOT DELETED' },
    });
  });
});

describe('status auto-rollback adapter (issue 12: armed or disarmed, and until when)', () => {
  const rollout = {
    'rollout/state-machine-arn': 'arn:sm',
    'state/table-name': 'state',
    [AUTO_ROLLBACK_PARAMETER]: JSON.stringify({ watchHours: 24, triggers: ['green-error-rate'] }),
  };
  const intent = (hoursAgo: number) => ({
    ...STATE_KEYS.weightsIntent,
    weights: { blue: 50, green: 50 },
    version: 3,
    operationId: 'shift#x',
    writer: 'alice',
    at: new Date(NOW - hoursAgo * 3_600_000).toISOString(),
    greenRaisedAt: new Date(NOW - hoursAgo * 3_600_000).toISOString(),
  });
  const items = (byPk: Record<string, unknown>) =>
    ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({ Item: byPk[input.Key.pk] }));

  it('not configured without a rollout; not available from a stack that does not publish the policy', async () => {
    expect(await readAutoRollbackArming(ctx({}))).toMatchObject({ available: false, why: 'not-configured' });
    const { [AUTO_ROLLBACK_PARAMETER]: _omit, ...old } = rollout;
    expect(await readAutoRollbackArming(ctx(old))).toMatchObject({
      available: false,
      why: 'not-built',
      detail: expect.stringMatching(/does not publish rollout\/auto-rollback-policy/),
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('armed until the watch window ends, 24 h after green last rose', async () => {
    items({ [STATE_KEYS.weightsIntent.pk]: intent(3) });
    expect(await readAutoRollbackArming(ctx(rollout))).toEqual({
      available: true,
      value: expect.objectContaining({
        armed: true,
        because: 'watch-window',
        until: new Date(NOW + 21 * 3_600_000).toISOString(),
        watchHours: 24,
      }),
    });
  });

  it('disarmed after the window, with when it ended; armed again while a shift holds the lease', async () => {
    items({ [STATE_KEYS.weightsIntent.pk]: intent(30) });
    expect(await readAutoRollbackArming(ctx(rollout))).toMatchObject({
      available: true,
      value: { armed: false, because: 'window-ended', until: new Date(NOW - 6 * 3_600_000).toISOString() },
    });
    items({
      [STATE_KEYS.weightsIntent.pk]: intent(30),
      [STATE_KEYS.lease.pk]: {
        ...STATE_KEYS.lease,
        owner: 'alice',
        purpose: 'shift to 75% green',
        expiresAt: 0,
      },
    });
    expect(await readAutoRollbackArming(ctx(rollout))).toMatchObject({
      available: true,
      value: { armed: true, because: 'lease-held', detail: expect.stringMatching(/held by alice/) },
    });
  });

  it('disarmed when no increase of green was ever recorded', async () => {
    items({});
    expect(await readAutoRollbackArming(ctx(rollout))).toMatchObject({
      available: true,
      value: { armed: false, because: 'no-increase-recorded' },
    });
  });
});
