import { Match, type Template } from 'aws-cdk-lib/assertions';
import { rawConfig, validateConfig } from '../../../lib/config';
import { cloneRaw, synthEnvironment, type SynthResult } from '../../support/app';

describe('OutputParity in prod', () => {
  let prod: SynthResult;
  let t: Template;

  beforeAll(() => {
    prod = synthEnvironment('prod');
    t = prod.guardrails;
  });

  const parity = () => prod.stacks.guardrails.parity!;
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    prod.stacks.guardrails.getLogicalId(c.node.defaultChild as never);

  it('runs one schedule per pair with that pair as input, no retries', () => {
    const fnArn = { 'Fn::GetAtt': [logicalId(parity().function.function), 'Arn'] };
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'pipeline-guardrails-prod-parity-box-score-players',
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({
        Arn: fnArn,
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
        Input: Match.serializedJson({
          pair: Match.objectLike({
            name: 'box-score-players',
            blue: { schemaName: 'public', table: 'box_score_players' },
            green: { schemaName: 'unified', table: 'box_score_players' },
            key: ['game_id', 'player_id'],
            maxDifferences: 0,
          }),
        }),
      }),
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'pipeline-guardrails-prod-parity-games',
      Target: Match.objectLike({
        Input: Match.serializedJson({
          pair: Match.objectLike({ window: { column: 'tipoff_utc', hours: 24, settleMinutes: 10 } }),
        }),
      }),
    });
  });

  it('runs in the private subnets with the data checks security group and read-only secret, TLS verified', () => {
    const dc = prod.stacks.guardrails.dataChecks;
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'pipeline-guardrails prod: blue-vs-green output parity',
      Timeout: 900,
      VpcConfig: Match.objectLike({
        SubnetIds: ['subnet-0a1b2c3d4e5f60031', 'subnet-0a1b2c3d4e5f60032', 'subnet-0a1b2c3d4e5f60033'],
        SecurityGroupIds: [{ 'Fn::GetAtt': [logicalId(dc.securityGroup), 'GroupId'] }],
      }),
      Environment: {
        Variables: Match.objectLike({
          DB_SSL_MODE: 'verify-full',
          DB_SECRET_ARN: Match.stringLikeRegexp('checks-readonly'),
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
        }),
      },
    });
  });

  it('may only write its own results (pk parity) and publish to the project namespace', () => {
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'PublishParityMetrics',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'PipelineGuardrails' } },
          }),
          Match.objectLike({
            Sid: 'ParityStateOnly',
            Action: 'dynamodb:PutItem',
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['parity'] } },
          }),
        ]),
      },
    });
  });

  it('alarms per pair: differences above maxDifferences at the pair severity, failures, and silence', () => {
    const critical = prod.stacks.guardrails.topics.critical;
    const warning = prod.stacks.guardrails.topics.warning;
    const ref = (topic: typeof critical) => ({ Ref: logicalId(topic) });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-parity-differences-box-score-players',
      MetricName: 'ParityDifferences',
      Namespace: 'PipelineGuardrails',
      Dimensions: Match.arrayWith([{ Name: 'Pair', Value: 'box-score-players' }]),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(critical)],
      OKActions: [ref(critical)],
      AlarmDescription: Match.stringLikeRegexp('Runbook: .*#parity-differences'),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-parity-silent-games',
      MetricName: 'ParityHeartbeat',
      Period: 3600,
      EvaluationPeriods: 2,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmDescription: Match.stringLikeRegexp('#parity-silent'),
      // Mail even for a critical pair: the gates stay closed, and an unreachable database pages once elsewhere.
      AlarmActions: [ref(warning)],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-parity-failed-games',
      MetricName: 'ParityFailures',
      AlarmActions: [ref(warning)],
      AlarmDescription: Match.stringLikeRegexp('#parity-failed'),
    });
  });

  it('feeds the traffic gates: the rollout function gets the pairs and read access, the shift a parameter', () => {
    const pairs = [
      { name: 'box-score-players', maxDifferences: 0, maxAgeMinutes: 120 },
      { name: 'games', maxDifferences: 0, maxAgeMinutes: 120 },
    ];
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PARITY_GATE_PAIRS: JSON.stringify(pairs) }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ParityGateRead',
            Action: 'dynamodb:Query',
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['parity'] } },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/pipeline-guardrails/prod/parity/gate-pairs',
      Value: JSON.stringify(pairs),
    });
  });

  it('puts an "Output parity" section on the dashboard', () => {
    expect(prod.stacks.guardrails.dashboard.sectionTitles).toContain('Output parity (blue vs green)');
  });
});

describe('OutputParity without pairs', () => {
  it('is not built, and nothing of it is synthesized', () => {
    const raw = cloneRaw(rawConfig('dev'));
    raw.parity = [];
    const dev = synthEnvironment(validateConfig('dev', raw));
    expect(dev.stacks.guardrails.parity).toBeUndefined();
    dev.guardrails.resourcePropertiesCountIs(
      'AWS::Scheduler::Schedule',
      { Name: Match.stringLikeRegexp('parity') },
      0,
    );
  });
});
