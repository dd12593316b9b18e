import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  applyWeights,
  inspectTraffic,
  InvalidWeightsError,
  readListenerWeights,
  UnexpectedListenerError,
  weightProblems,
  WriteFencedError,
} from '../../../lambda/shared/traffic';
import { acquireLease } from '../../../lambda/shared/shift-audit';
import { TrafficWorld } from '../../support/traffic-world';

const clients = {
  elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
};

describe('weights validation', () => {
  it.each([
    [{ blue: 90, green: 10 }, []],
    [{ blue: 100, green: 0 }, []],
    [{ blue: 90, green: 20 }, [/sum of 100/]],
    [{ blue: -10, green: 110 }, [/blue weight: got -10/, /green weight: got 110/]],
    [{ blue: 50.5, green: 49.5 }, [/blue weight: got 50.5, expected an integer/, /green weight/]],
    [{ blue: '50', green: 50 }, [/blue weight: got "50"/]],
  ])('%j -> %p', (w, expected) => {
    const problems = weightProblems(w);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(problems[i]).toMatch(re));
  });
});

describe('the weighted rule: the one live representation', () => {
  let world: TrafficWorld;
  beforeEach(() => {
    world = new TrafficWorld();
  });
  const write = (over: object = {}) => ({
    operationId: 'op-1',
    writer: 'alice',
    now: new Date(world.now),
    ...over,
  });
  const leased = async () =>
    (await acquireLease(clients.doc, world.tableName, 'alice', 'shift', 120, () => new Date(world.now)))
      .leaseId;

  it('reads relative ALB weights as percentages', async () => {
    world.weights = { blue: 3, green: 1 };
    await expect(readListenerWeights(clients.elbv2, world.target)).resolves.toEqual({ blue: 75, green: 25 });
  });

  it('reads a forward to one target group as 100% that color (no exit without a reason)', async () => {
    world.rules[1]!.Actions = [{ Type: 'forward', TargetGroupArn: world.blueTg }];
    await expect(readListenerWeights(clients.elbv2, world.target)).resolves.toEqual({ blue: 100, green: 0 });
  });

  it('refuses a third target group, naming it, and writes nothing', async () => {
    world.rules[1]!.Actions![0]!.ForwardConfig!.TargetGroups!.push({
      TargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/canary/9',
      Weight: 5,
    });
    const lease = await leased();
    await expect(
      applyWeights(clients, world.target, { blue: 90, green: 10 }, write({ leaseId: lease })),
    ).rejects.toThrow(
      /also forwards to targetgroup\/canary\/9 \(weight 5\), which is neither blue nor green/,
    );
    expect(world.changes).toEqual([]);
    expect(world.intent).toBeUndefined();
  });

  it('refuses a rule with a non-forward step (it would be dropped) and rules that route elsewhere', async () => {
    world.rules[1]!.Actions = [
      { Type: 'authenticate-oidc', Order: 1 },
      { ...world.forward({ blue: 100, green: 0 }), Order: 2 },
    ];
    world.rules.push({
      RuleArn: 'arn:rule/api',
      Priority: '0',
      Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }],
      Actions: [{ Type: 'forward', TargetGroupArn: world.blueTg }],
    });
    const reading = await inspectTraffic(clients.elbv2, world.target);
    expect(reading.problems).toEqual([
      expect.stringMatching(/rule rule\/api \(priority 0\) routes forward .*outside the weighted rule/),
      expect.stringMatching(/actions authenticate-oidc, forward, expected one forward action/),
    ]);
    await expect(readListenerWeights(clients.elbv2, world.target)).rejects.toThrow(UnexpectedListenerError);
  });

  it('writes the record of intent under the lease, then the rule, reads back and publishes the weight', async () => {
    const lease = await leased();
    await expect(
      applyWeights(clients, world.target, { blue: 90, green: 10 }, write({ leaseId: lease })),
    ).resolves.toEqual({ blue: 90, green: 10 });
    expect(world.calls.filter((c) => /TransactWrite|ModifyRule/.test(c))).toEqual([
      'ddb.TransactWrite',
      'elbv2.ModifyRule',
    ]);
    expect(world.intent).toMatchObject({ weights: { blue: 90, green: 10 }, version: 1, operationId: 'op-1' });
    expect(world.metrics[0]).toMatchObject({
      Namespace: 'PipelineGuardrails',
      MetricData: [
        { MetricName: 'GreenWeightPercent', Value: 10, Dimensions: [{ Name: 'Environment', Value: 'test' }] },
      ],
    });
  });

  it('is fenced: a writer whose lease was taken over changes nothing', async () => {
    await leased();
    await expect(
      applyWeights(clients, world.target, { blue: 50, green: 50 }, write({ leaseId: 'an-old-lease' })),
    ).rejects.toThrow(WriteFencedError);
    await expect(applyWeights(clients, world.target, { blue: 50, green: 50 }, write())).rejects.toThrow(
      /without holding the traffic lease/,
    );
    expect(world.changes).toEqual([]);
    expect(world.intent).toBeUndefined();
  });

  it('converges: after a failed rule write the next run writes both (issue 11, item 1)', async () => {
    const lease = await leased();
    world.onCall = (command, index) => {
      if (command === 'elbv2.ModifyRule' && !world.fault) world.fault = { index, kind: 'error' };
    };
    await expect(
      applyWeights(clients, world.target, { blue: 80, green: 20 }, write({ leaseId: lease })),
    ).rejects.toThrow(/record of intent says blue 80% \/ green 20% but the listener rule was not changed/);
    expect(world.violations()).toEqual([expect.stringMatching(/rule .* != intent/)]);
    await applyWeights(clients, world.target, { blue: 80, green: 20 }, write({ leaseId: lease }));
    expect(world.violations()).toEqual([]);
  });

  it('refuses invalid weights before any AWS call', async () => {
    await expect(applyWeights(clients, world.target, { blue: 90, green: 20 }, write())).rejects.toThrow(
      InvalidWeightsError,
    );
    expect(world.calls).toEqual([]);
  });
});
