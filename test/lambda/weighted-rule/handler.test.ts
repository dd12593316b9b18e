import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  SetRulePrioritiesCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { onEvent, type CustomResourceEvent } from '../../../lambda/weighted-rule/handler';

/** The custom resource that owns the weighted rule, and the deploy guard (issue 11: items 8, deploy safety). */
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);
const ddb = mockClient(DynamoDBDocumentClient);
const NOW = Date.parse('2026-11-26T02:00:00Z');
const deps = {
  elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
  ssm: new SSMClient({ region: 'us-east-1' }),
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  now: () => new Date(NOW),
};
const props = {
  EnvName: 'prod',
  StateTableName: 'state',
  ListenerArn: 'arn:listener/1',
  Priority: '1',
  BlueTargetGroupArn: 'arn:tg/blue',
  GreenTargetGroupArn: 'arn:tg/green',
  InitialBlueWeight: '100',
  InitialGreenWeight: '0',
  LegacyWeightsParameterName: '/pipeline-guardrails/prod/routing/weights',
};
const rule = (blue: number, green: number, blueArn = 'arn:tg/blue', greenArn = 'arn:tg/green'): Rule => ({
  RuleArn: 'arn:rule/1',
  Priority: '1',
  Actions: [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: blueArn, Weight: blue },
          { TargetGroupArn: greenArn, Weight: green },
        ],
      },
    },
  ],
});
const event = (over: Partial<CustomResourceEvent>): CustomResourceEvent => ({
  RequestType: 'Create',
  ResourceType: 'Custom::WeightedForwardRule',
  ResourceProperties: props,
  ...over,
});
const forwardOf = (input: { Actions?: { ForwardConfig?: { TargetGroups?: unknown } }[] }) =>
  input.Actions?.[0]?.ForwardConfig?.TargetGroups;

beforeEach(() => {
  for (const m of [elbv2, ssm, ddb]) m.reset();
  ddb.on(GetCommand).resolves({});
  ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
  elbv2.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: 'arn:rule/1' }] });
});

describe('Custom::WeightedForwardRule', () => {
  it('creates the rule once with the initial weights (path-pattern "*")', async () => {
    elbv2.on(DescribeRulesCommand).resolves({ Rules: [] });
    await expect(onEvent(event({}), deps)).resolves.toEqual({
      PhysicalResourceId: 'arn:rule/1',
      Data: { RuleArn: 'arn:rule/1' },
    });
    const [create] = elbv2.commandCalls(CreateRuleCommand);
    expect(create!.args[0].input).toMatchObject({
      ListenerArn: 'arn:listener/1',
      Priority: 1,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['*'] } }],
    });
    expect(forwardOf(create!.args[0].input)).toEqual([
      { TargetGroupArn: 'arn:tg/blue', Weight: 100 },
      { TargetGroupArn: 'arn:tg/green', Weight: 0 },
    ]);
  });

  it('keeps the weights an earlier design left in SSM on its first creation (migration)', async () => {
    elbv2.on(DescribeRulesCommand).resolves({ Rules: [] });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"blue":75,"green":25}' } });
    await onEvent(event({}), deps);
    expect(forwardOf(elbv2.commandCalls(CreateRuleCommand)[0]!.args[0].input)).toEqual([
      { TargetGroupArn: 'arn:tg/blue', Weight: 75 },
      { TargetGroupArn: 'arn:tg/green', Weight: 25 },
    ]);
  });

  it('a retried create adopts its own rule at that priority and keeps its weights', async () => {
    elbv2.on(DescribeRulesCommand).resolves({ Rules: [rule(50, 50)] });
    await expect(onEvent(event({}), deps)).resolves.toMatchObject({ PhysicalResourceId: 'arn:rule/1' });
    expect(elbv2).not.toHaveReceivedCommand(CreateRuleCommand);
  });

  it('an update keeps the live weights (a new initialWeights changes nothing)', async () => {
    elbv2.on(DescribeRulesCommand).resolves({ Rules: [rule(25, 75)] });
    await onEvent(
      event({
        RequestType: 'Update',
        PhysicalResourceId: 'arn:rule/1',
        OldResourceProperties: props,
        ResourceProperties: { ...props, InitialBlueWeight: '50', InitialGreenWeight: '50' },
      }),
      deps,
    );
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(elbv2).not.toHaveReceivedCommand(CreateRuleCommand);
  });

  it('an update with a replaced target group maps color to color and keeps the weights; a new priority is set', async () => {
    elbv2.on(DescribeRulesCommand).resolves({ Rules: [rule(25, 75)] });
    await onEvent(
      event({
        RequestType: 'Update',
        PhysicalResourceId: 'arn:rule/1',
        OldResourceProperties: props,
        ResourceProperties: { ...props, GreenTargetGroupArn: 'arn:tg/green-2', Priority: '5' },
      }),
      deps,
    );
    expect(forwardOf(elbv2.commandCalls(ModifyRuleCommand)[0]!.args[0].input)).toEqual([
      { TargetGroupArn: 'arn:tg/blue', Weight: 25 },
      { TargetGroupArn: 'arn:tg/green-2', Weight: 75 },
    ]);
    expect(elbv2).toHaveReceivedCommandWith(SetRulePrioritiesCommand, {
      RulePriorities: [{ RuleArn: 'arn:rule/1', Priority: 5 }],
    });
  });

  it('deletes the rule with the stack; already gone is fine', async () => {
    elbv2.on(DeleteRuleCommand).rejects(Object.assign(new Error('gone'), { name: 'RuleNotFoundException' }));
    await expect(
      onEvent(event({ RequestType: 'Delete', PhysicalResourceId: 'arn:rule/1' }), deps),
    ).resolves.toEqual({ PhysicalResourceId: 'arn:rule/1' });
  });
});

describe('Custom::TrafficDeployGuard', () => {
  const guardEvent = (RequestType: 'Create' | 'Update' | 'Delete') =>
    event({
      RequestType,
      ResourceType: 'Custom::TrafficDeployGuard',
      ResourceProperties: { EnvName: 'prod', StateTableName: 'state' },
    });

  it('fails the deploy while a shift or plan holds the lease, naming the holder and the status command', async () => {
    ddb.on(GetCommand).resolves({
      Item: {
        owner: 'plan:plan-7',
        acquiredAt: '2026-11-26T01:50:00Z',
        purpose: 'rollout plan 10% -> 100%',
        expiresAt: NOW / 1000 + 200,
      },
    });
    await expect(onEvent(guardEvent('Update'), deps)).rejects.toThrow(
      /deploy refused: the traffic lease of prod is held by plan:plan-7 .*npm run shift -- --env prod --status/,
    );
    // The weighted rule's own update is guarded too, and delete never is.
    await expect(
      onEvent(
        event({ RequestType: 'Update', PhysicalResourceId: 'arn:rule/1', OldResourceProperties: props }),
        deps,
      ),
    ).rejects.toThrow(/deploy refused/);
    await expect(onEvent(guardEvent('Delete'), deps)).resolves.toBeDefined();
  });

  it('lets the deploy through when the lease is free or long dead', async () => {
    await expect(onEvent(guardEvent('Update'), deps)).resolves.toBeDefined();
    ddb
      .on(GetCommand)
      .resolves({ Item: { owner: 'gone', acquiredAt: 'x', purpose: 'x', expiresAt: NOW / 1000 - 3600 } });
    await expect(onEvent(guardEvent('Update'), deps)).resolves.toBeDefined();
  });
});
