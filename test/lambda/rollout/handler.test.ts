import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  runAction,
  type RolloutConfig,
  type RolloutContext,
  type RolloutState,
  type PlanContext,
  type StepStatus,
} from '../../../lambda/rollout/handler';
import { PLAN_KEY } from '../../../lambda/shared/rollout-control';
import { AUDIT_PK, LOCK_KEY } from '../../../lambda/shared/shift-audit';
import { CHECKS_SUMMARY_KEY } from '../../../lambda/shared/checks-summary';
import {
  ALARMS,
  alarmStates,
  COMPOSITE,
  EXECUTION_ARN,
  GREEN_5XX,
  listener,
  planState,
  TABLE,
  TARGET,
} from './fixtures';

const cw = mockClient(CloudWatchClient);
const ddb = mockClient(DynamoDBDocumentClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);
const rds = mockClient(RDSClient);
const sns = mockClient(SNSClient);

const NOW = new Date('2026-11-26T01:20:00.000Z');
const config: RolloutConfig = {
  envName: 'test',
  stateTableName: TABLE,
  target: TARGET,
  alarmNames: ALARMS,
  checksMaxAgeSeconds: 900,
  checkIntervalSeconds: 30,
  dbInstanceIdentifier: 'nba-test',
  snapshotTimeoutSeconds: 3600,
  criticalTopicArn: 'arn:aws:sns:us-east-1:111111111111:critical',
  warningTopicArn: 'arn:aws:sns:us-east-1:111111111111:warning',
};
let now = NOW;
const ctx: RolloutContext = {
  config,
  clients: {
    cloudwatch: new CloudWatchClient({}),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    elbv2: new ElasticLoadBalancingV2Client({}),
    ssm: new SSMClient({}),
    rds: new RDSClient({}),
    sns: new SNSClient({}),
  },
  now: () => now,
};

const plan: PlanContext = {
  planId: 'plan-1',
  executionArn: EXECUTION_ARN,
  steps: [10, 25, 50, 100],
  bakeSeconds: 900,
  checkIntervalSeconds: 30,
  actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice',
  forcedAlarms: [],
  from: { blue: 100, green: 0 },
};
const request = { steps: [10, 25, 50, 100], bakeSeconds: 900, actor: plan.actor };

function state(extra: Partial<RolloutState> = {}): RolloutState {
  return { request, plan, cursor: { stepIndex: 1 }, ...extra };
}

function bakingStep(overrides: Partial<StepStatus> = {}): StepStatus {
  return {
    stepIndex: 1,
    green: 25,
    last: false,
    bakeUntil: '2026-11-26T01:25:00.000Z',
    bakeDone: false,
    nextWaitSeconds: 30,
    promoted: false,
    alarmStates: {},
    ...overrides,
  };
}

const conditionalFailure = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** Conditional-check failure for Puts of items under partition key `pk`; other Puts succeed. */
function failPutsOf(pk: string) {
  ddb.on(PutCommand).callsFake((input: { Item?: { pk?: string } }) => {
    if (input.Item?.pk === pk) throw conditionalFailure();
    return {};
  });
}

/** The happy-path answers of every gate. */
function gatesOpen() {
  alarmStates(cw);
  ddb.on(GetCommand, { Key: CHECKS_SUMMARY_KEY }).resolves({
    Item: { ...CHECKS_SUMMARY_KEY, status: 'ok', checkedAt: '2026-11-26T01:15:00.000Z', problems: [] },
  });
  elbv2.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }],
  });
}

beforeEach(() => {
  cw.reset();
  ddb.reset();
  elbv2.reset();
  ssm.reset();
  rds.reset();
  sns.reset();
  now = NOW;
  ddb.on(UpdateCommand).resolves({ Attributes: { ...PLAN_KEY, ...planState() } });
  ddb.on(PutCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  ssm.on(PutParameterCommand).resolves({});
  sns.on(PublishCommand).resolves({});
});

describe('start', () => {
  const execution = { id: EXECUTION_ARN, name: 'plan-1' };

  it('takes the shift lock for the plan, reads the weights and writes the plan item', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listener(100, 0));
    const result = (await runAction({ action: 'start', state: { request }, execution }, ctx)) as PlanContext;
    expect(result).toMatchObject({
      planId: 'plan-1',
      steps: [10, 25, 50, 100],
      from: { blue: 100, green: 0 },
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ ...LOCK_KEY, owner: 'plan:plan-1' }),
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ ...PLAN_KEY, status: 'running', stepIndex: -1 }),
    });
  });

  it('fails with LockHeldError when a manual shift or another plan holds the lock', async () => {
    failPutsOf(LOCK_KEY.pk);
    await expect(runAction({ action: 'start', state: { request }, execution }, ctx)).rejects.toMatchObject({
      name: 'LockHeldError',
    });
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
  });

  it('rejects an invalid plan before any AWS call', async () => {
    const bad = { ...request, steps: [50, 25] };
    await expect(
      runAction({ action: 'start', state: { request: bad }, execution }, ctx),
    ).rejects.toMatchObject({
      name: 'InvalidPlan',
      message: expect.stringContaining('expected each step above the one before'),
    });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('releases the lock again when another plan item is still active', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listener(100, 0));
    failPutsOf(PLAN_KEY.pk);
    await expect(runAction({ action: 'start', state: { request }, execution }, ctx)).rejects.toThrow(
      /another rollout plan is active/,
    );
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: LOCK_KEY });
  });
});

describe('gate', () => {
  it('opens when no watched alarm is in ALARM, the checks are ok and recent and green is healthy', async () => {
    gatesOpen();
    const out = (await runAction({ action: 'gate', state: state() }, ctx)) as { alarmStates: object };
    expect(out.alarmStates).toEqual({ [COMPOSITE]: 'OK', [GREEN_5XX]: 'OK', [ALARMS[2]!]: 'OK' });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: expect.stringContaining('#status = :required'),
    });
  });

  it.each([
    [
      'the critical composite alarm in ALARM',
      () => alarmStates(cw, { [COMPOSITE]: 'ALARM' }),
      /alarm pipeline-guardrails-test-critical-any is in ALARM/,
    ],
    [
      "one of green's alarms in ALARM",
      () => alarmStates(cw, { [GREEN_5XX]: 'ALARM' }),
      /green-error-rate-critical is in ALARM/,
    ],
    [
      'a watched alarm that does not exist',
      () => alarmStates(cw, { [COMPOSITE]: 'MISSING' }),
      /critical-any does not exist/,
    ],
    [
      'a data-checks violation',
      () =>
        ddb.on(GetCommand, { Key: CHECKS_SUMMARY_KEY }).resolves({
          Item: {
            status: 'violation',
            checkedAt: '2026-11-26T01:15:00.000Z',
            problems: ['games: rows lost 3'],
          },
        }),
      /data checks: last run .* reported violation: games: rows lost 3/,
    ],
    [
      'a stale data-checks result',
      () =>
        ddb.on(GetCommand, { Key: CHECKS_SUMMARY_KEY }).resolves({
          Item: { status: 'ok', checkedAt: '2026-11-26T00:50:00.000Z', problems: [] },
        }),
      /\(1800s ago\), expected one within 900s/,
    ],
    [
      'no data-checks result',
      () => ddb.on(GetCommand, { Key: CHECKS_SUMMARY_KEY }).resolves({}),
      /no result recorded yet/,
    ],
    [
      'green without a healthy target',
      () =>
        elbv2.on(DescribeTargetHealthCommand).resolves({
          TargetHealthDescriptions: [{ TargetHealth: { State: 'unhealthy' } }],
        }),
      /green: no healthy target/,
    ],
  ])('closes on %s', async (_what, arrange, message) => {
    gatesOpen();
    arrange();
    await expect(runAction({ action: 'gate', state: state() }, ctx)).rejects.toMatchObject({
      name: 'GateClosed',
      message: expect.stringMatching(message),
    });
  });

  it('ignores only the alarms the operator forced past', async () => {
    gatesOpen();
    alarmStates(cw, { [COMPOSITE]: 'ALARM' });
    const forced = { ...plan, forcedAlarms: [COMPOSITE] };
    await expect(runAction({ action: 'gate', state: state({ plan: forced }) }, ctx)).resolves.toBeDefined();
    alarmStates(cw, { [COMPOSITE]: 'ALARM', [GREEN_5XX]: 'ALARM' });
    await expect(runAction({ action: 'gate', state: state({ plan: forced }) }, ctx)).rejects.toThrow(
      /green-error-rate-critical is in ALARM/,
    );
  });

  it('fails with PlanAborted when the plan was aborted meanwhile', async () => {
    gatesOpen();
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    await expect(runAction({ action: 'gate', state: state() }, ctx)).rejects.toMatchObject({
      name: 'PlanAborted',
    });
  });
});

describe('pre-shift snapshot', () => {
  it('creates the snapshot without waiting in the function', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    const out = await runAction({ action: 'snapshot-start', state: state() }, ctx);
    expect(out).toMatchObject({
      snapshotId: 'pipeline-guardrails-test-pre-shift-20261126t012000z',
      available: false,
      status: 'creating',
    });
    expect(rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, { DBInstanceIdentifier: 'nba-test' });
    expect(rds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 1); // the quota check only
  });

  const snap = {
    snapshotId: 'snap-1',
    startedAt: '2026-11-26T01:10:00.000Z',
    available: false,
    status: 'creating',
  };
  const describe_ = (status: string) =>
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 'snap-1', Status: status }] });

  it('reports available, or still creating for the Wait loop', async () => {
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ phase: 'snapshot' }) });
    describe_('available');
    await expect(
      runAction({ action: 'snapshot-status', state: state({ snapshot: snap }) }, ctx),
    ).resolves.toMatchObject({
      available: true,
    });
    describe_('creating');
    await expect(
      runAction({ action: 'snapshot-status', state: state({ snapshot: snap }) }, ctx),
    ).resolves.toMatchObject({
      available: false,
    });
  });

  it('fails the plan on a failed snapshot and past the timeout', async () => {
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ phase: 'snapshot' }) });
    describe_('failed');
    await expect(
      runAction({ action: 'snapshot-status', state: state({ snapshot: snap }) }, ctx),
    ).rejects.toMatchObject({
      name: 'SnapshotFailed',
      message: expect.stringContaining('is failed'),
    });
    describe_('creating');
    now = new Date('2026-11-26T02:10:01.000Z');
    await expect(
      runAction({ action: 'snapshot-status', state: state({ snapshot: snap }) }, ctx),
    ).rejects.toThrow(/still creating after 3601s \(limit 3600s\)/);
  });
});

describe('apply', () => {
  it('sets the step weights (listener, then parameter), records plan-step and announces it', async () => {
    elbv2.on(DescribeListenersCommand).resolvesOnce(listener(90, 10)).resolves(listener(75, 25));
    elbv2.on(ModifyListenerCommand).resolves({});
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ phase: 'applying' }) });

    const out = (await runAction(
      {
        action: 'apply',
        state: state({
          snapshot: { snapshotId: 'snap-1', startedAt: '', available: true, status: 'available' },
        }),
      },
      ctx,
    )) as StepStatus;

    expect(elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, {
      DefaultActions: [
        expect.objectContaining({
          ForwardConfig: expect.objectContaining({
            TargetGroups: [
              { TargetGroupArn: TARGET.blueTargetGroupArn, Weight: 75 },
              { TargetGroupArn: TARGET.greenTargetGroupArn, Weight: 25 },
            ],
          }),
        }),
      ],
    });
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: TARGET.weightsParameterName,
      Value: '{"blue":75,"green":25}',
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        pk: AUDIT_PK,
        kind: 'plan-step',
        from: { blue: 90, green: 10 },
        to: { blue: 75, green: 25 },
        planId: 'plan-1',
        snapshotId: 'snap-1',
      }),
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: config.warningTopicArn,
      Subject: expect.stringContaining('blue 75% / green 25% (plan step 2/4)'),
    });
    expect(out).toEqual(
      expect.objectContaining({
        stepIndex: 1,
        green: 25,
        last: false,
        bakeDone: false,
        nextWaitSeconds: 30,
        bakeUntil: '2026-11-26T01:35:00.000Z',
      }),
    );
  });

  it('abort mid-step: an abort that lands while the listener changes sends traffic back to 100% blue', async () => {
    elbv2.on(DescribeListenersCommand).resolvesOnce(listener(90, 10)).resolves(listener(75, 25));
    elbv2.on(ModifyListenerCommand).resolves({});
    // The CLI's --abort marked the plan between this task's check and its listener change.
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ status: 'aborting' }) });

    await expect(runAction({ action: 'apply', state: state() }, ctx)).rejects.toMatchObject({
      name: 'PlanAborted',
      message: expect.stringContaining('traffic set back to 100% blue'),
    });
    const modifies = elbv2.commandCalls(ModifyListenerCommand);
    expect(modifies).toHaveLength(2);
    expect(modifies[1]!.args[0].input.DefaultActions?.[0]?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: TARGET.blueTargetGroupArn, Weight: 100 },
      { TargetGroupArn: TARGET.greenTargetGroupArn, Weight: 0 },
    ]);
    expect(ddb).not.toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ kind: 'plan-step' }),
    });
  });

  it('refuses to apply a step over weights someone else set since the previous step', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listener(100, 0)); // step 1 set 90/10; someone rolled back
    await expect(runAction({ action: 'apply', state: state() }, ctx)).rejects.toMatchObject({
      name: 'PlanAborted',
      message: expect.stringContaining('traffic changed outside plan plan-1'),
    });
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
  });

  it('does not touch the listener when the plan was aborted before the step', async () => {
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    await expect(runAction({ action: 'apply', state: state() }, ctx)).rejects.toMatchObject({
      name: 'PlanAborted',
    });
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
  });

  it('bakes no longer than the bake: a 10-second bake waits 10 seconds, not the check interval', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listener(90, 10));
    elbv2.on(ModifyListenerCommand).resolves({});
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState() });
    const out = (await runAction(
      { action: 'apply', state: state({ plan: { ...plan, bakeSeconds: 10 } }) },
      ctx,
    )) as StepStatus;
    expect(out.nextWaitSeconds).toBe(10);
  });
});

describe('bake-check', () => {
  beforeEach(() => {
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState() });
    elbv2.on(DescribeListenersCommand).resolves(listener(75, 25));
  });

  it('stops the plan when traffic was moved under it (a manual --rollback), instead of overriding it later', async () => {
    alarmStates(cw);
    elbv2.on(DescribeListenersCommand).resolves(listener(100, 0));
    await expect(
      runAction({ action: 'bake-check', state: state({ step: bakingStep() }) }, ctx),
    ).rejects.toMatchObject({
      name: 'PlanAborted',
      message: expect.stringContaining('expected blue 75% / green 25%, found blue 100% / green 0%'),
    });
  });

  it('keeps baking while all is well, waiting the check interval or what is left', async () => {
    alarmStates(cw);
    const out = (await runAction(
      { action: 'bake-check', state: state({ step: bakingStep() }) },
      ctx,
    )) as StepStatus;
    expect(out).toMatchObject({ bakeDone: false, nextWaitSeconds: 30, promoted: false });
    now = new Date('2026-11-26T01:24:50.000Z');
    const late = (await runAction(
      { action: 'bake-check', state: state({ step: bakingStep() }) },
      ctx,
    )) as StepStatus;
    expect(late).toMatchObject({ bakeDone: false, nextWaitSeconds: 10 });
  });

  it('ends the bake when its time is up', async () => {
    alarmStates(cw);
    now = new Date('2026-11-26T01:25:00.000Z');
    const out = (await runAction(
      { action: 'bake-check', state: state({ step: bakingStep() }) },
      ctx,
    )) as StepStatus;
    expect(out).toMatchObject({ bakeDone: true, nextWaitSeconds: 0 });
  });

  it('alarm firing mid-bake: fails with AlarmFiring (the state machine then rolls back)', async () => {
    alarmStates(cw, { [GREEN_5XX]: 'ALARM' });
    await expect(
      runAction({ action: 'bake-check', state: state({ step: bakingStep() }) }, ctx),
    ).rejects.toMatchObject({
      name: 'AlarmFiring',
      message: `alarm in ALARM: ${GREEN_5XX}`,
    });
  });

  it('promote ends the bake of the promoted step only', async () => {
    alarmStates(cw);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ promoteStep: 1 }) });
    const out = (await runAction(
      { action: 'bake-check', state: state({ step: bakingStep() }) },
      ctx,
    )) as StepStatus;
    expect(out).toMatchObject({ bakeDone: true, promoted: true });
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ promoteStep: 0 }) });
    const other = (await runAction(
      { action: 'bake-check', state: state({ step: bakingStep() }) },
      ctx,
    )) as StepStatus;
    expect(other).toMatchObject({ bakeDone: false, promoted: false });
  });

  it('fails with PlanAborted when the plan was aborted during the bake', async () => {
    alarmStates(cw);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ status: 'aborting' }) });
    await expect(
      runAction({ action: 'bake-check', state: state({ step: bakingStep() }) }, ctx),
    ).rejects.toMatchObject({
      name: 'PlanAborted',
    });
  });
});

describe('rollback', () => {
  const failed = state({
    step: bakingStep(),
    error: { Error: 'AlarmFiring', Cause: JSON.stringify({ errorMessage: `alarm in ALARM: ${GREEN_5XX}` }) },
  });

  it('sets 100% blue, closes the plan, records plan-abort, releases the lock and pages', async () => {
    elbv2.on(DescribeListenersCommand).resolvesOnce(listener(75, 25)).resolves(listener(100, 0));
    elbv2.on(ModifyListenerCommand).resolves({});
    const out = await runAction({ action: 'rollback', state: failed }, ctx);
    expect(out).toEqual({ outcome: 'rolled-back', weights: { blue: 100, green: 0 } });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':aborting': 'aborting',
    });
    expect(elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, {
      DefaultActions: [
        expect.objectContaining({
          ForwardConfig: expect.objectContaining({
            TargetGroups: [
              { TargetGroupArn: TARGET.blueTargetGroupArn, Weight: 100 },
              { TargetGroupArn: TARGET.greenTargetGroupArn, Weight: 0 },
            ],
          }),
        }),
      ],
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        kind: 'plan-abort',
        outcome: 'rolled-back',
        from: { blue: 75, green: 25 },
        to: { blue: 100, green: 0 },
        detail: `AlarmFiring: alarm in ALARM: ${GREEN_5XX}`,
      }),
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: LOCK_KEY });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: config.criticalTopicArn,
      Subject: expect.stringContaining('ROLLED BACK to 100% blue'),
      Message: expect.stringContaining('during step 2/4 (green 25%)'),
    });
  });

  it('records a refusal and leaves the listener alone when no traffic had moved', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listener(100, 0));
    const gateFailed = state({ error: { Error: 'GateClosed', Cause: 'gate closed: data checks stale' } });
    const out = await runAction({ action: 'rollback', state: gateFailed }, ctx);
    expect(out).toMatchObject({ outcome: 'refused' });
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ kind: 'plan-abort', outcome: 'refused' }),
    });
  });

  it('fails (for the state machine to retry and page) when the listener cannot be changed', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listener(75, 25));
    elbv2.on(ModifyListenerCommand).rejects(new Error('AccessDenied'));
    await expect(runAction({ action: 'rollback', state: failed }, ctx)).rejects.toThrow(/AccessDenied/);
  });
});

describe('complete and refuse', () => {
  it('marks the plan succeeded, releases the lock and announces the result', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...planState({ weights: { blue: 0, green: 100 } }) } });
    await expect(runAction({ action: 'complete', state: state() }, ctx)).resolves.toEqual({
      planId: 'plan-1',
      weights: { blue: 0, green: 100 },
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: LOCK_KEY });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: config.warningTopicArn });
  });

  it('records a plan that never started without touching traffic', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listener(90, 10));
    await runAction(
      {
        action: 'refuse',
        state: { request, error: { Error: 'LockHeldError', Cause: 'another shift is in progress' } },
        execution: { id: EXECUTION_ARN, name: 'plan-1' },
      },
      ctx,
    );
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        kind: 'plan-abort',
        outcome: 'refused',
        from: { blue: 90, green: 10 },
      }),
    });
  });
});
