import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { judgeArming, type ArmingFacts } from '../../../lambda/shared/auto-rollback-policy';
import type { PlanState } from '../../../lambda/shared/rollout-control';
import { acquireLease } from '../../../lambda/shared/shift-audit';
import { ALL_BLUE, applyWeights, type WeightsIntent } from '../../../lambda/shared/traffic';
import { TrafficWorld } from '../../support/traffic-world';

const NOW = Date.parse('2026-11-26T02:00:00Z');
const H = 3_600_000;

function intent(raisedHoursAgo?: number): WeightsIntent {
  return {
    weights: { blue: 50, green: 50 },
    version: 4,
    operationId: 'op',
    writer: 'alice',
    at: new Date(NOW - H).toISOString(),
    ...(raisedHoursAgo === undefined
      ? {}
      : { greenRaisedAt: new Date(NOW - raisedHoursAgo * H).toISOString() }),
  };
}
const facts = (over: Partial<ArmingFacts>): ArmingFacts => ({ watchHours: 24, nowMs: NOW, ...over });

describe('judgeArming: armed only during a cutover', () => {
  it('armed within watchHours of green last rising, until the window ends', () => {
    expect(judgeArming(facts({ intent: intent(23.5) }))).toEqual({
      armed: true,
      because: 'watch-window',
      until: new Date(NOW + 0.5 * H).toISOString(),
      detail: expect.stringMatching(/24h watch window after green's last increase/),
    });
  });

  it('disarmed once the window ended (exactly at its end too), saying when', () => {
    expect(judgeArming(facts({ intent: intent(24) }))).toMatchObject({
      armed: false,
      because: 'window-ended',
      endedAt: new Date(NOW).toISOString(),
    });
    expect(judgeArming(facts({ intent: intent(72) }))).toMatchObject({ armed: false });
  });

  it('disarmed with no recorded increase; watchHours 0 arms only during a shift or plan', () => {
    expect(judgeArming(facts({}))).toMatchObject({ armed: false, because: 'no-increase-recorded' });
    expect(judgeArming(facts({ intent: intent(0), watchHours: 0 }))).toMatchObject({ armed: false });
  });

  it('armed while a shift holds the lease or a plan is active, whatever the window says', () => {
    const lease = { owner: 'alice', purpose: 'shift to 10%', acquiredAt: '', expiresAt: 0 };
    expect(judgeArming(facts({ lease, intent: intent(100) }))).toMatchObject({
      armed: true,
      because: 'lease-held',
    });
    const plan = { planId: 'plan-1', status: 'aborting' } as PlanState;
    expect(judgeArming(facts({ plan }))).toMatchObject({ armed: true, because: 'plan-active' });
    const ended = { planId: 'plan-1', status: 'succeeded' } as PlanState;
    expect(judgeArming(facts({ plan: ended, intent: intent(30) }))).toMatchObject({ armed: false });
  });
});

describe("the writers record green's last increase where they write the weights (the window is exact)", () => {
  const clients = {
    elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
  };
  let world: TrafficWorld;
  beforeEach(() => {
    world = new TrafficWorld();
  });
  const write = async (green: number, operationId: string, leaseId?: string) =>
    applyWeights(
      clients,
      world.target,
      { blue: 100 - green, green },
      { operationId, writer: 'alice', leaseId, now: new Date(world.now) },
    );
  const raisedAt = () => (world.intent as unknown as WeightsIntent).greenRaisedAt;

  it('an increase sets it; a decrease and a rollback keep it; a retry of the same write keeps its time', async () => {
    const lease = await acquireLease(
      clients.doc,
      world.tableName,
      'alice',
      'test',
      600,
      () => new Date(world.now),
    );
    const t0 = new Date(world.now).toISOString();
    await write(10, 'op-1', lease.leaseId);
    expect(raisedAt()).toBe(t0);
    world.now += 60_000;
    await write(10, 'op-1', lease.leaseId); // the same step retried
    expect(raisedAt()).toBe(t0);
    world.now += 60_000;
    const t2 = new Date(world.now).toISOString();
    await write(25, 'op-2', lease.leaseId);
    expect(raisedAt()).toBe(t2);
    world.now += 60_000;
    await write(20, 'op-3', lease.leaseId);
    expect(raisedAt()).toBe(t2);
    world.now += 60_000;
    await applyWeights(clients, world.target, ALL_BLUE, {
      operationId: 'rollback',
      writer: 'auto-rollback',
      now: new Date(world.now),
    });
    expect(raisedAt()).toBe(t2);
  });
});
