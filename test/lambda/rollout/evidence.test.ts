import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  describeEvidence,
  greenRequestsSince,
  judgeEvidence,
  targetGroupDimensions,
} from '../../../lambda/rollout/evidence';
import { evaluateGates } from '../../../lambda/rollout/gates';

const cw = mockClient(CloudWatchClient);
const ddb = mockClient(DynamoDBDocumentClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const target = {
  listenerArn:
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/pg-prod/0123456789abcdef/fedcba9876543210',
  greenTargetGroupArn:
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/green/0011223344556677',
};

beforeEach(() => {
  cw.reset();
  ddb.reset();
  elbv2.reset();
});

describe('evidence: the verdict (pure)', () => {
  it('needs the requests and every alarm evaluated; forced alarms are left out', () => {
    const ok = { a: 'OK', b: 'OK' };
    expect(
      judgeEvidence({ alarmStates: ok, forcedAlarms: [], requests: 100, requiredRequests: 100 }).enough,
    ).toBe(true);
    expect(
      judgeEvidence({ alarmStates: ok, forcedAlarms: [], requests: 99, requiredRequests: 100 }).enough,
    ).toBe(false);
    const insufficient = judgeEvidence({
      alarmStates: { a: 'OK', b: 'INSUFFICIENT_DATA' },
      forcedAlarms: [],
      requests: 500,
      requiredRequests: 100,
    });
    expect(insufficient).toMatchObject({ enough: false, insufficient: ['b'] });
    expect(describeEvidence(insufficient)).toBe(
      'green served 500 of the 100 requests required; INSUFFICIENT_DATA: b',
    );
    expect(
      judgeEvidence({ alarmStates: { b: 'INSUFFICIENT_DATA' }, forcedAlarms: ['b'], requiredRequests: 0 })
        .enough,
    ).toBe(true);
  });
});

describe("evidence: green's requests from CloudWatch", () => {
  it('derives the load balancer dimensions from the ARNs, and refuses an ARN it cannot read', () => {
    expect(targetGroupDimensions(target)).toEqual({
      LoadBalancer: 'app/pg-prod/0123456789abcdef',
      TargetGroup: 'targetgroup/green/0011223344556677',
    });
    expect(() => targetGroupDimensions({ ...target, listenerArn: 'arn:nope' })).toThrow(
      /cannot derive the load balancer metric dimensions/,
    );
  });

  it('sums whole minutes after the change across pages (the minute of the change is not counted)', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'greenRequests', Values: [10, 20] }], NextToken: 't' })
      .resolves({ MetricDataResults: [{ Id: 'greenRequests', Values: [5] }] });
    const total = await greenRequestsSince(
      new CloudWatchClient({}),
      target,
      new Date('2026-11-26T02:00:30Z'),
      new Date('2026-11-26T02:04:10Z'),
    );
    expect(total).toBe(35);
    expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2026-11-26T02:01:00Z'),
      EndTime: new Date('2026-11-26T02:04:00Z'),
      MetricDataQueries: [
        expect.objectContaining({
          MetricStat: expect.objectContaining({
            Stat: 'Sum',
            Period: 60,
            Metric: expect.objectContaining({ Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount' }),
          }),
        }),
      ],
    });
    expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, { NextToken: 't' });
  });

  it('counts nothing (and asks nothing) before a whole minute has passed', async () => {
    await expect(
      greenRequestsSince(
        new CloudWatchClient({}),
        target,
        new Date('2026-11-26T02:00:30Z'),
        new Date('2026-11-26T02:00:59Z'),
      ),
    ).resolves.toBe(0);
    expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
  });
});

describe('the evidence gate', () => {
  const clients = {
    cloudwatch: new CloudWatchClient({}),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    elbv2: new ElasticLoadBalancingV2Client({}),
  };
  const config = {
    alarmNames: ['green-5xx'],
    checksMaxAgeSeconds: 900,
    stateTableName: 't',
    greenTargetGroupArn: target.greenTargetGroupArn,
    parityPairs: [],
  };
  const now = new Date('2026-11-26T02:00:00Z');
  beforeEach(() => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'green-5xx', StateValue: 'INSUFFICIENT_DATA' }],
    });
    ddb.on(GetCommand).resolves({
      Item: { status: 'ok', checkedAt: '2026-11-26T01:59:00.000Z', problems: [] },
    });
    elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }],
    });
  });

  it('INSUFFICIENT_DATA with green in traffic (or unknown weight) closes it, typed evidence (not an alarm)', async () => {
    for (const greenWeight of [10, undefined]) {
      const r = await evaluateGates(clients, { ...config, greenWeight }, now);
      expect(r.open).toBe(false);
      expect(r.closed.map((c) => c.gate)).toEqual(['evidence']);
    }
  });

  it('at 0% green it does not hold the first step; a person promoting a paused step waives it', async () => {
    expect((await evaluateGates(clients, { ...config, greenWeight: 0 }, now)).open).toBe(true);
    expect(
      (await evaluateGates(clients, { ...config, greenWeight: 10, evidenceWaivedBy: 'bob' }, now)).open,
    ).toBe(true);
  });

  it('a waiver never opens an alarm in ALARM', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'green-5xx', StateValue: 'ALARM' }],
    });
    const r = await evaluateGates(clients, { ...config, greenWeight: 10, evidenceWaivedBy: 'bob' }, now);
    expect(r.closed.map((c) => c.gate)).toEqual(['alarms']);
  });
});
