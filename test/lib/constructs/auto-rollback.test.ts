import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { synthEnvironment } from '../../support/app';
import { buildRolloutStack, GREEN_ALARMS, LISTENER_ARN, RULE_ARN, TRIGGERS } from './rollout-fixture';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function autoRollbackStatements(template: Template): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^AutoRollbackFunction') }] },
  });
  const [policy] = Object.values(policies) as {
    Properties: { PolicyDocument: { Statement: Statement[] } };
  }[];
  return policy!.Properties.PolicyDocument.Statement;
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('AutoRollback', () => {
  const { stack } = buildRolloutStack();
  const template = Template.fromStack(stack);

  it("matches ALARM state changes of exactly the trigger alarms' names (no composite)", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'pipeline-guardrails-test-auto-rollback',
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: GREEN_ALARMS, state: { value: ['ALARM'] } },
      },
    });
  });

  it('gives the function its triggers, watch window and the warning topic (not the critical one)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('set 100% blue'),
      Environment: {
        Variables: Match.objectLike({
          WATCH_HOURS: '24',
          RESULT_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^TopicsWarning') },
          TRIGGERS: JSON.stringify({
            'green-error-rate': ['routing-green-5xx-rate'],
            'green-latency': ['routing-green-p95-latency'],
            'green-tasks-below-desired': ['routing-green-unhealthy-hosts'],
          }),
          CRITICAL_TOPIC_ARN: Match.absent(),
        }),
      },
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/pipeline-guardrails/test/rollout/auto-rollback-policy',
      Value: JSON.stringify({
        watchHours: 24,
        triggers: ['green-error-rate', 'green-latency', 'green-tasks-below-desired'],
      }),
    });
  });

  it("says in each trigger's page that the automatic rollback acts while armed", () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    for (const name of GREEN_ALARMS) {
      const alarm = Object.values(alarms).find((a) => a.Properties.AlarmName === name);
      expect(alarm?.Properties.AlarmDescription).toMatch(
        /Auto-rollback trigger: while armed .* 100% blue .*\nRunbook: /,
      );
    }
    const failed = Object.values(alarms).find((a) => /auto-rollback-failed$/.test(a.Properties.AlarmName));
    expect(failed?.Properties.AlarmDescription).not.toMatch(/Auto-rollback trigger/);
  });

  it('targets the auto-rollback function with delivery retries, and lets EventBridge invoke it', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AutoRollbackFunction'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 600 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AutoRollbackFunction'), 'Arn'] },
    });
  });

  it('runs outside any VPC and without database settings (nothing that may be failing)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('set 100% blue, stop the rollout plan'),
      VpcConfig: Match.absent(),
      MemorySize: 1024,
      Timeout: 30,
      Environment: {
        Variables: Match.objectLike({
          LISTENER_ARN,
          RULE_ARN,
          STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^RolloutStateMachine') },
        }),
      },
    });
    const fns = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('set 100% blue') },
    });
    const vars = JSON.stringify(Object.values(fns)[0]);
    expect(vars).not.toMatch(/DB_|DATABASE|GREEN_SERVICE|SECRET/);
  });

  it("may change that listener, the weights parameter, the rollout items, that state machine's executions and the warning topic; nothing else", () => {
    const statements = autoRollbackStatements(template);
    const byAction = new Map<string, Statement>();
    for (const s of statements) for (const a of actions(s)) byAction.set(a, s);

    expect(byAction.get('elasticloadbalancing:ModifyRule')?.Resource).toBe(RULE_ARN);
    expect(byAction.get('cloudwatch:PutMetricData')?.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': 'PipelineGuardrails' },
    });
    expect(byAction.get('dynamodb:PutItem')?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'dynamodb:LeadingKeys': ['shift#audit', 'shift#lock', 'rollout#plan', 'routing#weights'],
      },
    });
    expect(byAction.get('states:ListExecutions')?.Resource).toEqual({
      Ref: expect.stringMatching(/^RolloutStateMachine/),
    });
    expect(JSON.stringify(byAction.get('states:StopExecution')?.Resource)).toContain(
      ':execution:pipeline-guardrails-test-rollout:*',
    );
    expect(byAction.get('sns:Publish')?.Resource).toEqual({ Ref: expect.stringMatching(/^TopicsWarning/) });

    // The complete list of actions: no RDS, no ECS, no CloudWatch writes, no critical topic.
    expect([...byAction.keys()].sort()).toEqual(
      [
        'cloudwatch:PutMetricData',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'elasticloadbalancing:DescribeRules',
        'elasticloadbalancing:ModifyRule',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKey*',
        'sns:Publish',
        // The failure destination: the dead-letter queue only.
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'states:ListExecutions',
        'states:StopExecution',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    // "*" only for the read-only calls IAM cannot scope.
    const starActions = statements
      .filter((s) => s.Resource === '*')
      .flatMap(actions)
      .sort();
    expect(starActions).toEqual(
      [
        'cloudwatch:PutMetricData', // limited to the project namespace by condition
        'elasticloadbalancing:DescribeRules',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('pages when the rollback fails or cannot be delivered, once across Lambda retries (any failure in 5 minutes)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-rollout-auto-rollback-failed',
      TreatMissingData: 'notBreaching',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^TopicsCritical') }],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(errors, 0) + FILL(failed, 0) + FILL(dead, 0)' }),
        Match.objectLike({
          Id: 'failed',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              Namespace: 'AWS/Events',
              MetricName: 'FailedInvocations',
              Dimensions: [{ Name: 'RuleName', Value: { Ref: Match.stringLikeRegexp('^AutoRollbackRule') } }],
            }),
          }),
        }),
      ]),
    });
  });

  it('warns (and leaves the description) when a trigger alarm has no room for the note', () => {
    const long = {
      alarmName: 'pipeline-guardrails-test-routing-green-wordy',
      triggerClass: 'green-latency' as const,
    };
    const { stack, alarms } = buildRolloutStack({ autoRollback: { triggers: [...TRIGGERS, long] } });
    alarms.createAlarm(stack, 'Wordy', {
      area: 'routing',
      what: 'green-wordy',
      severity: 'critical',
      metric: new cloudwatch.Metric({ namespace: 'Test', metricName: 'Wordy' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning: 'x'.repeat(900),
      firstCheck: 'none',
      runbookAnchor: 'routing-latency',
    });
    const t = Template.fromStack(stack);
    const wordy = Object.values(t.findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.AlarmName === long.alarmName,
    );
    expect(wordy?.Properties.AlarmDescription).not.toMatch(/Auto-rollback trigger/);
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('green-wordy: its description has no room for the auto-rollback note'),
    );
  });

  it.each([
    [{ triggers: [] }, /triggers: got none/],
    [
      { triggers: [{ alarmName: 'other-app-green-5xx', triggerClass: 'green-error-rate' as const }] },
      /alarm "other-app-green-5xx": expected a name starting with pipeline-guardrails-test-/,
    ],
    [{ triggers: [TRIGGERS[0]!, TRIGGERS[0]!] }, /alarm names: got duplicates/],
    [{ watchHours: -1 }, /watchHours: got -1, expected 0 to 168/],
  ])('rejects %o at construction', (autoRollback, message) => {
    expect(() => buildRolloutStack({ autoRollback })).toThrow(message);
  });

  it('accepts a single trigger of this environment', () => {
    expect(() => buildRolloutStack({ autoRollback: { triggers: [TRIGGERS[0]!] } })).not.toThrow();
  });

  it('refuses at synth a trigger that is not an alarm of the stack (names cannot drift)', () => {
    const { app } = buildRolloutStack({
      autoRollback: {
        triggers: [
          { alarmName: 'pipeline-guardrails-test-routing-green-renamed', triggerClass: 'green-error-rate' },
        ],
      },
    });
    expect(() => app.synth()).toThrow(
      /trigger pipeline-guardrails-test-routing-green-renamed is not an alarm of this stack/,
    );
  });

  it("refuses at synth an event pattern over EventBridge's 2048 characters, naming the config field", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      alarmName: `pipeline-guardrails-test-checks-rows-lost-table-with-a-long-name-${i}`,
      triggerClass: 'rows-lost' as const,
    }));
    const { app } = buildRolloutStack({ autoRollback: { triggers: many } });
    expect(() => app.synth()).toThrow(
      /routing\.autoRollback\.triggers: 40 trigger alarms make an event pattern of \d+ characters, expected at most 2048/,
    );
  });
});

describe('rollout and auto-rollback in the environment stacks', () => {
  const { guardrails, stacks } = synthEnvironment('staging');

  it("watches green's trigger alarms by exact name: never blue's, the database's or the composite", () => {
    const routing = stacks.guardrails.routing!;
    const [rule] = Object.values(
      guardrails.findResources('AWS::Events::Rule', {
        Properties: { Name: 'pipeline-guardrails-staging-auto-rollback' },
      }),
    );
    const watched: string[] = rule?.Properties.EventPattern.detail.alarmName;
    expect(rule?.Properties.EventPattern.detail.state).toEqual({ value: ['ALARM'] });
    // Every green service-level alarm, green's target health, and each data-loss alarm.
    expect(watched).toEqual(expect.arrayContaining([...routing.greenAlarmNames]));
    expect(watched).toEqual(
      expect.arrayContaining([
        'pipeline-guardrails-staging-service-green-healthy-tasks-critical',
        expect.stringMatching(/^pipeline-guardrails-staging-checks-rows-lost$/),
        expect.stringMatching(/^pipeline-guardrails-staging-checks-schema-changed$/),
      ]),
    );
    const forbidden = watched.filter((n) =>
      /-critical-any$|-blue-|-database-|heartbeat|stale|custom|snapshots/.test(n),
    );
    expect(forbidden).toEqual([]);
    // Each one is an alarm of the stack.
    const names = Object.values(guardrails.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );
    expect(names).toEqual(expect.arrayContaining(watched));
  });

  it('gives the rollout the routing listener, the weighted rule and the target groups (no weights parameter)', () => {
    const statements = JSON.stringify(guardrails.findResources('AWS::IAM::Policy'));
    expect(statements).not.toContain('ssm:PutParameter');
    guardrails.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          LISTENER_ARN: { Ref: Match.stringLikeRegexp('^RoutingLoadBalancer') },
          GREEN_TARGET_GROUP_ARN: { Ref: Match.stringLikeRegexp('^RoutingGreenTargetGroup') },
          RULE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RoutingWeightedRule'), 'RuleArn'] },
          STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^RolloutStateMachine') },
        }),
      },
    });
    guardrails.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/pipeline-guardrails/staging/rollout/state-machine-arn',
    });
  });
});

describe('AutoRollback: no lost events (issue 12)', () => {
  const { stack } = buildRolloutStack({ nag: true });
  const t = Template.fromStack(stack);

  it('dead-letters undeliverable events and failed runs into one encrypted, TLS-only queue', () => {
    const [queueId] = Object.keys(t.findResources('AWS::SQS::Queue'));
    t.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 600 },
        }),
      ],
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 900,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('pages when anything reaches the queue, the function fails or the rule cannot deliver', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-rollout-auto-rollback-failed',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(errors, 0) + FILL(failed, 0) + FILL(dead, 0)' }),
        Match.objectLike({
          Id: 'dead',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible' }),
          }),
        }),
      ]),
    });
  });
});
