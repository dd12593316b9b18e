import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthEnvironment } from '../../support/app';
import { buildRolloutStack, COMPOSITE, GREEN_ALARMS, LISTENER_ARN, RULE_ARN } from './rollout-fixture';

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

  it("matches ALARM state changes of exactly green's alarms and the critical composite", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'pipeline-guardrails-test-auto-rollback',
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [COMPOSITE, ...GREEN_ALARMS], state: { value: ['ALARM'] } },
      },
    });
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

  it("may change that listener, the weights parameter, the rollout items, that state machine's executions and the critical topic; nothing else", () => {
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
    expect(byAction.get('sns:Publish')?.Resource).toEqual({ Ref: expect.stringMatching(/^TopicsCritical/) });

    // The complete list of actions: no RDS, no ECS, no CloudWatch writes, no warning topic.
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

  it('pages when the rollback fails or cannot be delivered', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-rollout-auto-rollback-failed',
      TreatMissingData: 'notBreaching',
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

  it.each([
    [{ greenAlarmNames: [] }, /greenAlarmNames: got none/],
    [
      { greenAlarmNames: ['other-app-green-5xx'] },
      /alarm "other-app-green-5xx": expected a name starting with pipeline-guardrails-test-/,
    ],
    [{ greenAlarmNames: [COMPOSITE] }, /alarm names: got duplicates/],
  ])('rejects %o at synth', (autoRollback, message) => {
    expect(() => buildRolloutStack({ autoRollback })).toThrow(message);
  });

  it('accepts a single green alarm of this environment', () => {
    expect(() => buildRolloutStack({ autoRollback: { greenAlarmNames: [GREEN_ALARMS[0]!] } })).not.toThrow();
  });
});

describe('rollout and auto-rollback in the environment stacks', () => {
  const { guardrails, stacks } = synthEnvironment('staging');

  it("watches exactly the routing construct's green alarms and the critical composite", () => {
    const routing = stacks.guardrails.routing!;
    expect(routing.greenAlarmNames.length).toBeGreaterThan(0);
    guardrails.hasResourceProperties('AWS::Events::Rule', {
      Name: 'pipeline-guardrails-staging-auto-rollback',
      EventPattern: Match.objectLike({
        detail: {
          alarmName: ['pipeline-guardrails-staging-critical-any', ...routing.greenAlarmNames],
          state: { value: ['ALARM'] },
        },
      }),
    });
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
