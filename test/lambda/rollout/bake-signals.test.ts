import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readBakeSignals, type BakeWatch } from '../../../lambda/rollout/bake-signals';
import { CHECKS_SUMMARY_KEY, type ChecksSummary } from '../../../lambda/shared/checks-summary';
import { alarmStates, ALARMS, COMPOSITE, GREEN_5XX, GREEN_P95, TABLE } from './fixtures';

/** The bake's signals (the CLI shift's bake and the rollout's bake-check task read them the same way). */
const cw = mockClient(CloudWatchClient);
const ddb = mockClient(DynamoDBDocumentClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const clients = {
  cloudwatch: new CloudWatchClient({}),
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  elbv2: new ElasticLoadBalancingV2Client({}),
};
const watch: BakeWatch = {
  alarmNames: ALARMS,
  criticalCompositeName: COMPOSITE,
  greenTargetGroupArn: 'tg-green',
  stateTableName: TABLE,
};

function world(opts: { alarms?: Record<string, string>; green?: string[]; checks?: Partial<ChecksSummary> }) {
  alarmStates(cw, opts.alarms);
  elbv2.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: (opts.green ?? ['healthy', 'healthy']).map((State, i) => ({
      Target: { Id: `10.0.0.${i}` },
      TargetHealth: { State: State as 'healthy' },
    })),
  });
  ddb.on(GetCommand, { TableName: TABLE, Key: CHECKS_SUMMARY_KEY }).resolves({
    Item: opts.checks
      ? { ...CHECKS_SUMMARY_KEY, checkedAt: '2026-12-01T11:59:00.000Z', problems: [], ...opts.checks }
      : undefined,
  });
}

beforeEach(() => {
  cw.reset();
  ddb.reset();
  elbv2.reset();
});

describe('readBakeSignals', () => {
  it('all well: nothing failed, the states and the health reported', async () => {
    world({ checks: { status: 'ok' } });
    const s = await readBakeSignals(clients, watch);
    expect(s.failed).toEqual([]);
    expect(s.health).toEqual({ healthy: 2, total: 2 });
    expect(s.alarmStates).toEqual({ [COMPOSITE]: 'OK', [GREEN_5XX]: 'OK', [GREEN_P95]: 'OK' });
  });

  it('an alarm in ALARM fails the bake under its gate: critical-any for the composite', async () => {
    world({ alarms: { [COMPOSITE]: 'ALARM', [GREEN_P95]: 'ALARM' }, checks: { status: 'ok' } });
    const s = await readBakeSignals(clients, watch);
    expect(s.firing).toEqual([COMPOSITE, GREEN_P95]);
    expect(s.failed.map((f) => f.gate)).toEqual(['critical-any', 'alarms']);
  });

  it('an alarm forced past does not fail it; INSUFFICIENT_DATA and MISSING do not either (no evidence)', async () => {
    world({ alarms: { [GREEN_5XX]: 'ALARM', [GREEN_P95]: 'INSUFFICIENT_DATA', [COMPOSITE]: 'MISSING' } });
    const s = await readBakeSignals(clients, { ...watch, ignoreAlarms: [GREEN_5XX] });
    expect(s.failed).toEqual([]);
    expect(s.alarmStates[COMPOSITE]).toBe('MISSING');
  });

  it('green without a healthy target fails it at once', async () => {
    world({ green: ['draining', 'unhealthy'], checks: { status: 'ok' } });
    expect((await readBakeSignals(clients, watch)).failed).toEqual([
      { gate: 'green-health', message: 'green: no healthy target in its target group (of 2)' },
    ]);
  });

  it('a recorded violation fails it; a checker error or no result does not (its heartbeat alarm pages)', async () => {
    world({ checks: { status: 'violation', problems: ['games: rows lost 3'] } });
    expect((await readBakeSignals(clients, watch)).failed).toEqual([
      {
        gate: 'data-checks',
        message: 'data checks: run at 2026-12-01T11:59:00.000Z found a violation: games: rows lost 3',
      },
    ]);
    world({ checks: { status: 'error', problems: ['connect ETIMEDOUT'] } });
    expect((await readBakeSignals(clients, watch)).failed).toEqual([]);
    world({});
    expect((await readBakeSignals(clients, watch)).failed).toEqual([]);
  });
});
