import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  autoRollback,
  configFromEnv,
  type AlarmStateChangeEvent,
  type AutoRollbackContext,
} from '../../../lambda/auto-rollback/handler';
import { PLAN_KEY } from '../../../lambda/shared/rollout-control';
import { LOCK_KEY } from '../../../lambda/shared/shift-audit';
import {
  EXECUTION_ARN,
  GREEN_5XX,
  listener,
  planState,
  STATE_MACHINE_ARN,
  TABLE,
  TARGET,
} from '../rollout/fixtures';

const ddb = mockClient(DynamoDBDocumentClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);

const CRITICAL = 'arn:aws:sns:us-east-1:111111111111:critical';
const ctx: AutoRollbackContext = {
  config: {
    envName: 'test',
    stateTableName: TABLE,
    target: TARGET,
    stateMachineArn: STATE_MACHINE_ARN,
    criticalTopicArn: CRITICAL,
    actor: 'pipeline-guardrails-test-auto-rollback',
  },
  clients: {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    elbv2: new ElasticLoadBalancingV2Client({}),
    ssm: new SSMClient({}),
    sfn: new SFNClient({}),
    sns: new SNSClient({}),
  },
  // The alarm changed state at 01:20:00; the function finishes 1.5 s later.
  now: () => new Date('2026-11-26T01:20:01.500Z'),
  sleep: async () => undefined,
};

function alarmEvent(state = 'ALARM', alarmName = GREEN_5XX): AlarmStateChangeEvent {
  return {
    'detail-type': 'CloudWatch Alarm State Change',
    time: '2026-11-26T01:20:00Z',
    detail: {
      alarmName,
      state: {
        value: state,
        reason: 'Threshold Crossed: 1 datapoint [4.2] > 1',
        timestamp: '2026-11-26T01:20:00.000+0000',
      },
      previousState: { value: 'OK' },
    },
  };
}

const conditionalFailure = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const ALL_BLUE_ACTION = [
  expect.objectContaining({
    ForwardConfig: expect.objectContaining({
      TargetGroups: [
        { TargetGroupArn: TARGET.blueTargetGroupArn, Weight: 100 },
        { TargetGroupArn: TARGET.greenTargetGroupArn, Weight: 0 },
      ],
    }),
  }),
];

beforeEach(() => {
  ddb.reset();
  elbv2.reset();
  ssm.reset();
  sfn.reset();
  sns.reset();
  ddb.on(PutCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  elbv2.on(ModifyListenerCommand).resolves({});
  ssm.on(PutParameterCommand).resolves({});
  sns.on(PublishCommand).resolves({});
  sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
});

describe('auto-rollback', () => {
  it('alarm firing mid-bake: marks the plan, sets 100% blue, stops the plan, audits and pages', async () => {
    // A plan is baking step 2 (25% green).
    const order: string[] = [];
    ddb.on(UpdateCommand).callsFake(() => {
      order.push('mark plan');
      return { Attributes: { ...PLAN_KEY, ...planState({ status: 'aborting' }) } };
    });
    elbv2.on(ModifyListenerCommand).callsFake(() => {
      order.push('set listener');
      return {};
    });
    elbv2.on(DescribeListenersCommand).resolvesOnce(listener(75, 25)).resolves(listener(100, 0));
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: EXECUTION_ARN,
          name: 'plan-1',
          stateMachineArn: STATE_MACHINE_ARN,
          status: 'RUNNING',
          startDate: new Date(),
        },
      ],
    });

    const result = await autoRollback(alarmEvent(), ctx);

    expect(result).toMatchObject({
      action: 'rolled-back',
      from: { blue: 75, green: 25 },
      stoppedExecutions: [EXECUTION_ARN],
      alarmToBlueMs: 1500,
      problems: [],
    });
    // Order matters: the plan is marked before the listener changes (a step in flight then puts blue back).
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      Key: PLAN_KEY,
      ConditionExpression: '#status = :running',
    });
    expect(order.slice(0, 2)).toEqual(['mark plan', 'set listener']);
    expect(elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, {
      ListenerArn: TARGET.listenerArn,
      DefaultActions: ALL_BLUE_ACTION,
    });
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: TARGET.weightsParameterName,
      Value: '{"blue":100,"green":0}',
    });
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: EXECUTION_ARN,
      error: 'PlanAborted',
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        kind: 'auto-rollback',
        outcome: 'rolled-back',
        from: { blue: 75, green: 25 },
        to: { blue: 100, green: 0 },
        planId: 'plan-1',
        alarmStates: { [GREEN_5XX]: 'ALARM' },
        actor: 'pipeline-guardrails-test-auto-rollback',
      }),
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: LOCK_KEY,
      ExpressionAttributeValues: { ':owner': 'plan:plan-1' },
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: CRITICAL,
      Subject: expect.stringContaining('AUTO-ROLLBACK to 100% blue'),
      Message: expect.stringContaining('(1.5s after the alarm)'),
    });
  });

  it('rolls back a manual shift too (no plan running), without stopping anything', async () => {
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    elbv2.on(DescribeListenersCommand).resolvesOnce(listener(90, 10)).resolves(listener(100, 0));
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });

    const result = await autoRollback(alarmEvent('ALARM', 'pipeline-guardrails-test-critical-any'), ctx);

    expect(result).toMatchObject({ action: 'rolled-back', stoppedExecutions: [] });
    expect(elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, { DefaultActions: ALL_BLUE_ACTION });
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Message: expect.stringContaining('No rollout plan was running'),
    });
  });

  it('does nothing when traffic is already 100% blue and no plan runs', async () => {
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    elbv2.on(DescribeListenersCommand).resolves(listener(100, 0));
    const result = await autoRollback(alarmEvent(), ctx);
    expect(result.action).toBe('none');
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('ignores a state change that is not into ALARM', async () => {
    const result = await autoRollback(alarmEvent('OK'), ctx);
    expect(result.action).toBe('ignored');
    expect(elbv2).not.toHaveReceivedAnyCommand();
  });

  it('still sets blue when the listener cannot be read first', async () => {
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    elbv2.on(DescribeListenersCommand).rejectsOnce(new Error('Throttling')).resolves(listener(100, 0));
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const result = await autoRollback(alarmEvent(), ctx);
    expect(result.action).toBe('rolled-back');
    expect(elbv2).toHaveReceivedCommandTimes(ModifyListenerCommand, 1);
    expect(result.problems).toEqual([expect.stringContaining('could not read the listener: Throttling')]);
  });

  it('keeps traffic blue when the audit, the plan stop or the page fail (each is best effort)', async () => {
    ddb.on(UpdateCommand).rejects(new Error('dynamo down'));
    ddb.on(PutCommand).rejects(new Error('dynamo down'));
    elbv2.on(DescribeListenersCommand).resolvesOnce(listener(50, 50)).resolves(listener(100, 0));
    sfn.on(ListExecutionsCommand).rejects(new Error('states down'));
    sns.on(PublishCommand).rejects(new Error('sns down'));

    const result = await autoRollback(alarmEvent(), ctx);

    expect(result.action).toBe('rolled-back');
    expect(elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, { DefaultActions: ALL_BLUE_ACTION });
    expect(result.problems).toEqual([
      'could not mark the running plan aborted: dynamo down',
      'could not stop the rollout plan: states down',
      'could not record the audit entry: dynamo down',
      'could not page: sns down',
    ]);
  });

  it('retries the traffic change, then fails loudly (error alarm) after paging that it failed', async () => {
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    elbv2.on(DescribeListenersCommand).resolves(listener(75, 25));
    elbv2.on(ModifyListenerCommand).rejects(new Error('AccessDenied'));
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });

    await expect(autoRollback(alarmEvent(), ctx)).rejects.toMatchObject({
      name: 'AutoRollbackFailed',
      message: expect.stringContaining('AccessDenied'),
    });
    expect(elbv2).toHaveReceivedCommandTimes(ModifyListenerCommand, 3);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: expect.stringContaining('AUTO-ROLLBACK FAILED'),
      Message: expect.stringContaining('npm run shift -- --env test --rollback --yes'),
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ outcome: 'failed' }),
    });
  });
});

describe('auto-rollback configuration', () => {
  it('reads its settings from the environment and names the missing one', () => {
    const env = {
      ENV_NAME: 'test',
      STATE_TABLE_NAME: TABLE,
      LISTENER_ARN: TARGET.listenerArn,
      BLUE_TARGET_GROUP_ARN: TARGET.blueTargetGroupArn,
      GREEN_TARGET_GROUP_ARN: TARGET.greenTargetGroupArn,
      WEIGHTS_PARAMETER_NAME: TARGET.weightsParameterName,
      STATE_MACHINE_ARN,
      CRITICAL_TOPIC_ARN: CRITICAL,
    };
    expect(configFromEnv(env)).toMatchObject({ target: TARGET, stateMachineArn: STATE_MACHINE_ARN });
    const { STATE_MACHINE_ARN: _omit, ...missing } = env;
    expect(() => configFromEnv(missing)).toThrow(/STATE_MACHINE_ARN is required/);
  });
});
