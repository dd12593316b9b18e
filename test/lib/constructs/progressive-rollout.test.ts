import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildRolloutStack, COMPOSITE, GREEN_ALARMS, LISTENER_ARN, RULE_ARN } from './rollout-fixture';

interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next: string; Variable?: string; BooleanEquals?: boolean }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[];
  Parameters?: Record<string, unknown>;
  SecondsPath?: string;
  Seconds?: number;
  ResultPath?: string;
  Resource?: string;
}
interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

/** The synthesized definition, with the function ARN token replaced by a marker. */
function definition(template: Template): Asl {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines) as { Properties: { DefinitionString: unknown } }[];
  const ds = machine!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] } | string;
  const text =
    typeof ds === 'string'
      ? ds
      : ds['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return JSON.parse(text) as Asl;
}

/** Every state reachable from `from` through Next/Default/Choices/Catch. */
function successors(asl: Asl, name: string): string[] {
  const s = asl.States[name]!;
  return [
    ...(s.Next ? [s.Next] : []),
    ...(s.Default ? [s.Default] : []),
    ...(s.Choices ?? []).map((c) => c.Next),
    ...(s.Catch ?? []).map((c) => c.Next),
  ];
}

function reachable(asl: Asl, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...successors(asl, n));
  }
  return seen;
}

function actionOf(state: AslState): string | undefined {
  return (state.Parameters as { action?: string } | undefined)?.action;
}

describe('ProgressiveRollout state machine definition', () => {
  const { stack } = buildRolloutStack();
  const template = Template.fromStack(stack);
  const asl = definition(template);

  it('starts by taking the lock, then gates, then the pre-shift snapshot before any step', () => {
    expect(asl.StartAt).toBe('Start');
    expect(actionOf(asl.States.Start!)).toBe('start');
    expect(asl.States.Start!.Next).toBe('FirstStep');
    expect(asl.States.FirstStep!.Next).toBe('PreSnapshotGate');
    expect(actionOf(asl.States.PreSnapshotGate!)).toBe('gate');
    expect(asl.States.PreSnapshotGate!.Next).toBe('StartSnapshot');
    expect(actionOf(asl.States.StartSnapshot!)).toBe('snapshot-start');
    // The first step can only be reached through the snapshot's "available" branch.
    const choice = asl.States['SnapshotAvailable?']!;
    expect(choice.Choices).toEqual([
      expect.objectContaining({ Variable: '$.snapshot.available', BooleanEquals: true, Next: 'StepGate' }),
    ]);
    expect(choice.Default).toBe('WaitForSnapshot');
    const intoStepGate = Object.entries(asl.States)
      .filter(([, s]) => successors({ ...asl, States: { x: s } } as Asl, 'x').includes('StepGate'))
      .map(([n]) => n)
      .sort();
    expect(intoStepGate).toEqual(['NextStep', 'SnapshotAvailable?']);
  });

  it('waits for the snapshot in a Wait loop, not inside a Lambda', () => {
    expect(asl.States.WaitForSnapshot).toMatchObject({ Type: 'Wait', Seconds: 30, Next: 'CheckSnapshot' });
    expect(actionOf(asl.States.CheckSnapshot!)).toBe('snapshot-status');
    expect(asl.States.CheckSnapshot!.Next).toBe('SnapshotAvailable?');
  });

  it('gates every step, applies it, then bakes in Wait states interleaved with alarm checks', () => {
    expect(asl.States.StepGate!.Next).toBe('ApplyStep');
    expect(actionOf(asl.States.ApplyStep!)).toBe('apply');
    expect(asl.States.ApplyStep!.Next).toBe('Bake');
    expect(asl.States.Bake).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.step.nextWaitSeconds',
      Next: 'BakeCheck',
    });
    expect(actionOf(asl.States.BakeCheck!)).toBe('bake-check');
    expect(asl.States.BakeCheck!.Next).toBe('BakeDone?');
    expect(asl.States['BakeDone?']).toMatchObject({
      Choices: [expect.objectContaining({ Variable: '$.step.bakeDone', Next: 'LastStep?' })],
      Default: 'Bake',
    });
    expect(asl.States['LastStep?']).toMatchObject({
      Choices: [expect.objectContaining({ Variable: '$.step.last', Next: 'Complete' })],
      Default: 'NextStep',
    });
    expect(asl.States.NextStep).toMatchObject({
      Type: 'Pass',
      Parameters: { 'stepIndex.$': '$.step.nextIndex' },
      ResultPath: '$.cursor',
      Next: 'StepGate',
    });
    expect(asl.States.Complete!.Next).toBe('PlanSucceeded');
  });

  it('sends every failure after the lock to the rollback task, and only then to a Fail state', () => {
    const guarded = [
      'PreSnapshotGate',
      'StartSnapshot',
      'CheckSnapshot',
      'StepGate',
      'ApplyStep',
      'BakeCheck',
    ];
    // Missing evidence at the last look before an increase (StepGate, ApplyStep) goes back to the bake
    // loop first; everything else rolls back.
    const evidence = { ErrorEquals: ['EvidenceMissing'], ResultPath: '$.evidenceMissing', Next: 'Bake' };
    for (const name of guarded) {
      expect(asl.States[name]!.Catch).toEqual([
        ...(name === 'StepGate' || name === 'ApplyStep' ? [evidence] : []),
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rollback' },
      ]);
    }
    // A failure to record success never rolls a finished cutover back (issue 11, item 3).
    expect(asl.States.Complete!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.completeError', Next: 'CompleteNotRecorded' },
    ]);
    // Every Task state is either guarded by the rollback, or is the start/refuse/rollback path itself.
    const tasks = Object.entries(asl.States)
      .filter(([, s]) => s.Type === 'Task')
      .map(([n]) => n);
    expect(tasks.sort()).toEqual(
      [...guarded, 'Complete', 'PageRollbackFailed', 'Refuse', 'Rollback', 'Start'].sort(),
    );
    expect(actionOf(asl.States.Rollback!)).toBe('rollback');
    expect(asl.States.Rollback!.Next).toBe('PlanRolledBack');
    expect(asl.States.PlanRolledBack!.Type).toBe('Fail');
    // The rollback is retried, then pages directly through SNS (the function may be what is broken).
    expect(asl.States.Rollback!.Retry).toEqual(
      expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 })]),
    );
    expect(asl.States.Rollback!.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'PageRollbackFailed' }),
    ]);
    expect(asl.States.PageRollbackFailed!.Resource).toContain('sns:publish');
    expect(asl.States.PageRollbackFailed!.Next).toBe('RollbackFailed');
  });

  it('never rolls back traffic it does not own: a failed start (lock held, bad plan) only records a refusal', () => {
    expect(asl.States.Start!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Refuse' },
    ]);
    expect(reachable(asl, 'Refuse')).not.toContain('Rollback');
    expect(reachable(asl, 'Refuse')).toContain('PlanRefused');
  });

  it('can only succeed through the last step completing', () => {
    const toSuccess = Object.entries(asl.States)
      .filter(([, s]) => s.Next === 'PlanSucceeded')
      .map(([n]) => n);
    expect(toSuccess).toEqual(['Complete']);
  });

  it('retries only transient errors inside a task; gate, alarm and abort errors fail the plan at once', () => {
    const retried = asl.States.BakeCheck!.Retry!.flatMap((r) => r.ErrorEquals);
    expect(retried).toEqual(expect.arrayContaining(['ThrottlingException', 'Lambda.ServiceException']));
    for (const e of ['States.ALL', 'States.TaskFailed', 'GateClosed', 'AlarmFiring', 'PlanAborted']) {
      expect(retried).not.toContain(e);
    }
  });

  it('passes the whole state and the execution id and name to the task function', () => {
    expect(asl.States.Start!.Parameters).toEqual({
      action: 'start',
      'state.$': '$',
      execution: { 'id.$': '$$.Execution.Id', 'name.$': '$$.Execution.Name' },
    });
  });

  it('has a time limit that covers the longest plan (its 24 h deadline) and the snapshot timeout', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'pipeline-guardrails-test-rollout',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      // Errors only, without execution data (inputs and outputs) unless the props ask for it.
      LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: false }),
    });
    // The plan's 24 h deadline (bakes, evidence waits, pauses), an hour of checks, the 2 h snapshot timeout.
    expect(asl.TimeoutSeconds).toBe((24 + 1 + 2) * 3600);
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/pipeline-guardrails-test-rollout',
      RetentionInDays: 30,
    });
  });
});

describe('ProgressiveRollout resources', () => {
  const { stack } = buildRolloutStack();
  const template = Template.fromStack(stack);

  it('configures the task function with the routing values, the watched alarms and the gate settings', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('rollout plan tasks'),
      Environment: {
        Variables: Match.objectLike({
          ENV_NAME: 'test',
          LISTENER_ARN,
          RULE_ARN,
          ALARM_NAMES: JSON.stringify([COMPOSITE, ...GREEN_ALARMS]),
          CHECKS_MAX_AGE_SECONDS: '900',
          CHECK_INTERVAL_SECONDS: '30',
          DB_INSTANCE_IDENTIFIER: 'nba-test',
          SNAPSHOT_TIMEOUT_SECONDS: '7200',
          // Evidence before promotion (defaults): 100 requests a step, 30 minutes' wait, 180 s minimum bake.
          MIN_REQUESTS_PER_STEP: '100',
          EVIDENCE_WAIT_SECONDS: '1800',
          MIN_BAKE_SECONDS: '180',
        }),
      },
      VpcConfig: Match.absent(),
    });
  });

  it("lets the task function read green's request count (GetMetricData) and publishes the evidence policy for the CLI", () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'GateReads',
            Action: Match.arrayWith(['cloudwatch:GetMetricData']),
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/pipeline-guardrails/test/rollout/evidence',
      Value: JSON.stringify({ minBakeSeconds: 180, minRequestsPerStep: 100, evidenceWaitSeconds: 1800 }),
    });
  });

  it('lets the task function change only that listener and parameter, and only the rollout items of the state table', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'elasticloadbalancing:ModifyRule', Resource: RULE_ARN }),
          Match.objectLike({
            Sid: 'StateTableItems',
            Condition: {
              'ForAllValues:StringEquals': {
                'dynamodb:LeadingKeys': [
                  'shift#audit',
                  'shift#lock',
                  'rollout#plan',
                  'routing#weights',
                  'checks',
                ],
              },
            },
          }),
          Match.objectLike({
            Action: 'rds:CreateDBSnapshot',
            Resource: { 'Fn::Join': ['', Match.arrayWith([':db:nba-test'])] },
          }),
          Match.objectLike({
            Action: 'rds:CreateDBSnapshot',
            Resource: {
              'Fn::Join': ['', Match.arrayWith([':snapshot:pipeline-guardrails-test-pre-shift-*'])],
            },
            Condition: Match.objectLike({
              StringEquals: Match.objectLike({ 'aws:RequestTag/reason': ['pre-shift'] }),
            }),
          }),
        ]),
      },
    });
  });

  it('lets the state machine page on the KMS-encrypted critical topic by itself (rollback failed)', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^RolloutStateMachineRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp('^TopicsCritical') },
          }),
          Match.objectLike({
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('publishes the state machine ARN for the CLI', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/pipeline-guardrails/test/rollout/state-machine-arn',
      Value: { Ref: Match.stringLikeRegexp('RolloutStateMachine') },
    });
  });

  it('alarms through the factory: a timed-out plan pages, a failed plan mails', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-rollout-plan-timed-out',
      MetricName: 'ExecutionsTimedOut',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('^\\[CRITICAL\\][\\s\\S]*#rollout-plan-timed-out$'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-rollout-plan-failed',
      MetricName: 'ExecutionsFailed',
      AlarmDescription: Match.stringLikeRegexp('^\\[WARNING\\][\\s\\S]*#rollout-plan-failed$'),
    });
  });

  it('exposes a dashboard section', () => {
    const { rollout } = buildRolloutStack();
    expect(rollout.dashboardSection.title).toBe('Progressive rollout');
    expect(rollout.dashboardSection.rows[0]!.length).toBeGreaterThan(0);
  });
});

describe('ProgressiveRollout validation', () => {
  it.each([
    [{ checkInterval: Duration.seconds(5) }, /checkInterval: got 5s, expected 10 to 300 seconds/],
    [{ snapshotTimeout: Duration.minutes(1) }, /snapshotTimeout: got 60s, expected 5 minutes to 6 hours/],
    [
      { snapshotPollInterval: Duration.hours(1) },
      /snapshotPollInterval: got 3600s, expected 10 to 600 seconds/,
    ],
    [{ checksMaxAge: Duration.seconds(30) }, /checksMaxAge: got 30s, expected at least 60 seconds/],
    [
      {
        traffic: {
          listenerArn: LISTENER_ARN,
          blueTargetGroupArn: 'b',
          greenTargetGroupArn: 'g',
          ruleArn: 'routing/weights',
        },
      },
      /traffic.ruleArn: got "routing\/weights", expected a listener rule ARN/,
    ],
    [
      { criticalCompositeAlarmName: '' },
      /criticalCompositeAlarmName: got "", expected the composite alarm name/,
    ],
    [{ minRequestsPerStep: -1 }, /minRequestsPerStep: got -1, expected a whole number of requests >= 0/],
    [{ evidenceWait: Duration.hours(7) }, /evidenceWait: got 25200s, expected at most 6 hours/],
  ])('rejects %o at synth', (rollout, message) => {
    expect(() => buildRolloutStack({ rollout })).toThrow(message);
  });

  it('accepts the edges of each range', () => {
    expect(() =>
      buildRolloutStack({
        rollout: {
          checkInterval: Duration.seconds(10),
          snapshotTimeout: Duration.minutes(5),
          snapshotPollInterval: Duration.seconds(600),
          checksMaxAge: Duration.seconds(60),
          minRequestsPerStep: 0,
          evidenceWait: Duration.hours(6),
        },
      }),
    ).not.toThrow();
  });
});

describe('ProgressiveRollout and AutoRollback security conformance', () => {
  it('synthesizes with no unacknowledged cdk-nag AwsSolutions finding', () => {
    const { app } = buildRolloutStack({ nag: true });
    expect(() => app.synth()).not.toThrow();
  });
});
