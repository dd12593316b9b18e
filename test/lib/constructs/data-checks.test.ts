import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { loadConfig, validateConfig, rawConfig } from '../../../lib/config';
import { tableSlug } from '../../../lib/constructs/data-checks';
import { CHECK_METRICS, HIGH_RESOLUTION_METRICS } from '../../../lambda/data-checks/metrics';
import { cloneRaw, synthEnvironment, type SynthResult } from '../../support/app';

describe('DataChecks in prod', () => {
  let prod: SynthResult;
  let t: Template;

  beforeAll(() => {
    prod = synthEnvironment('prod');
    t = prod.guardrails;
  });

  const checker = () => prod.stacks.guardrails.dataChecks.function.function;
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    prod.stacks.guardrails.getLogicalId(c.node.defaultChild as never);

  it('runs on an EventBridge Scheduler rate from config, with the checks config as input and no retries', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'pipeline-guardrails-prod-data-checks',
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(checker()), 'Arn'] },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
        Input: Match.serializedJson(
          Match.objectLike({
            checks: Match.objectLike({
              scheduleMinutes: 1,
              tables: Match.arrayWith([
                Match.objectLike({ table: 'hoopr_play_by_play', minRows: 13074829, appendOnly: true }),
              ]),
            }),
          }),
        ),
      }),
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it('places the function in the private subnets with its own security group, allowed into the database on its port', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'pipeline-guardrails prod: data integrity and freshness checks',
      // Never longer than the 1-minute schedule interval: runs do not overlap.
      Timeout: 60,
      VpcConfig: {
        SubnetIds: ['subnet-0a1b2c3d4e5f60031', 'subnet-0a1b2c3d4e5f60032', 'subnet-0a1b2c3d4e5f60033'],
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('DataChecksSecurityGroup'), 'GroupId'] }],
      },
      Environment: {
        Variables: Match.objectLike({
          ENV_NAME: 'prod',
          METRIC_NAMESPACE: 'PipelineGuardrails',
          DB_HOST: 'nba-analytics-prod.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
          DB_PORT: '5432',
          DB_NAME: 'nba',
          DB_SSL_MODE: 'verify-full',
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
          STATE_TABLE_NAME: Match.anyValue(),
        }),
      },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('data checks'),
      SecurityGroupEgress: Match.arrayWith([
        Match.objectLike({
          DestinationSecurityGroupId: 'sg-0a1b2c3d4e5f60037',
          FromPort: 5432,
          ToPort: 5432,
        }),
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
      ]),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0a1b2c3d4e5f60037',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DataChecksSecurityGroup'), 'GroupId'] },
    });
  });

  it('grants least privilege: the read-only secret, metrics in the namespace only, its own state keys', () => {
    const policies = t.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('DataChecksChecker') }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource:
            'arn:aws:secretsmanager:us-east-1:333333333333:secret:nba-analytics-prod/checks-readonly-AbCdEf',
        }),
        expect.objectContaining({
          Action: 'cloudwatch:PutMetricData',
          Resource: '*',
          Condition: { StringEquals: { 'cloudwatch:namespace': 'PipelineGuardrails' } },
        }),
        expect.objectContaining({
          Action: [
            'dynamodb:BatchGetItem',
            'dynamodb:BatchWriteItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
          ],
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['checks', 'checks#*'] } },
        }),
      ]),
    );
    // Nothing else may be granted on every resource (X-Ray tracing has no resource type).
    const unscoped = statements.filter(
      (s) => (s as { Resource: unknown }).Resource === '*' && !(s as { Condition?: unknown }).Condition,
    );
    expect(unscoped.flatMap((s) => (s as { Action: string[] }).Action)).toEqual([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
    ]);
    // The admin secret is not readable by the checker in prod.
    expect(JSON.stringify(statements)).not.toMatch(/nba-analytics-prod\/admin/);
  });

  it('creates the critical and warning alarms with actions on their topics', () => {
    const names = prod.stacks.guardrails.dataChecks.alarmList.map((a) => a.node.id);
    expect(names).toEqual(
      expect.arrayContaining([
        'RowsLost',
        'BelowFloor-games',
        'SchemaChanged',
        'Stale-warning-dims-metrics-snapshots',
        'Stale-critical-box-score-snapshots',
        'HeartbeatMissing',
        'CheckFailures',
        'DatabaseUnreachable',
        'Unverified',
      ]),
    );
    // One page per loss: one RowsLost alarm for every guarded table (noDecrease and appendOnly alike), one
    // schema alarm for every tracked table; no per-table ones, no DeletesSeen, no function-errors mail (a run that
    // could not check mails through check-failures; a crashed one is silent and pages through the heartbeat).
    expect(names.filter((n) => /^(AppendOnly|RowsLost|Schema)-/.test(n))).toEqual([]);
    expect(names).not.toContain('FunctionErrors');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-unverified',
      MetricName: 'UnverifiedTables',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlertTopicsCritical') }],
    });
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).not.toMatch(/DeletesSeen/);
    const critical = { Ref: Match.stringLikeRegexp('AlertTopicsCritical') };
    const warning = { Ref: Match.stringLikeRegexp('AlertTopicsWarning') };
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-rows-lost',
      MetricName: 'RowsLost',
      Namespace: 'PipelineGuardrails',
      Dimensions: [{ Name: 'Environment', Value: 'prod' }],
      AlarmDescription: Match.stringLikeRegexp('public.hoopr_play_by_play'),
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [critical],
      OKActions: [critical],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-rows-lost',
      AlarmDescription: Match.stringLikeRegexp('#checks-rows-lost'),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-schema-changed',
      MetricName: 'SchemaChangedTables',
      Dimensions: [{ Name: 'Environment', Value: 'prod' }],
      Threshold: 1,
      AlarmActions: [critical],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-database-unreachable',
      MetricName: 'DatabaseUnreachable',
      TreatMissingData: 'notBreaching',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      AlarmActions: [warning],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-below-floor-hoopr-play-by-play',
      MetricName: 'RowCount',
      Statistic: 'Minimum',
      Threshold: 13074829,
      ComparisonOperator: 'LessThanThreshold',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-stale-box-score-snapshots-warning',
      MetricName: 'FreshnessAgeSeconds',
      Threshold: 720 * 60,
      AlarmActions: [warning],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-stale-box-score-snapshots-critical',
      Threshold: 1440 * 60,
      AlarmActions: [critical],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-heartbeat-missing',
      MetricName: 'Heartbeat',
      Dimensions: [{ Name: 'Environment', Value: 'prod' }],
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      AlarmActions: [critical],
    });
  });

  it('pages once per loss: rows-lost is critical, the same delete seen as append-only or below floor mails', () => {
    const critical = { Ref: Match.stringLikeRegexp('AlertTopicsCritical') };
    const warning = { Ref: Match.stringLikeRegexp('AlertTopicsWarning') };
    // prod's tables have noDecrease, appendOnly and minRows: rows-lost is the page, and the same number seen
    // as deletes gets no second alarm.
    expect(
      Object.keys(
        t.findResources('AWS::CloudWatch::Alarm', {
          Properties: { AlarmName: 'pipeline-guardrails-prod-checks-append-only-games' },
        }),
      ),
    ).toEqual([]);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-below-floor-games',
      AlarmActions: [warning],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-check-failures',
      AlarmActions: [warning],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-checks-rows-lost',
      AlarmActions: [critical],
    });
    // A table without noDecrease: the same RowsLost alarm (key-level loss) is its page, at high resolution.
    const raw = cloneRaw(rawConfig('dev'));
    raw.checks.tables = [{ table: 'games', appendOnly: true, noDecrease: false }];
    const dev = synthEnvironment(validateConfig('dev', raw)).guardrails;
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-dev-checks-rows-lost',
      AlarmActions: [critical],
      Period: 10,
    });
    expect(
      Object.keys(
        dev.findResources('AWS::CloudWatch::Alarm', {
          Properties: { AlarmName: 'pipeline-guardrails-dev-checks-append-only-games' },
        }),
      ),
    ).toEqual([]);
  });

  it('keeps rule alarms in their state through gaps and evaluates the loss rules at high resolution', () => {
    for (const name of ['rows-lost']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `pipeline-guardrails-prod-checks-${name}`,
        TreatMissingData: 'ignore',
        Period: 10,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 1,
        Statistic: 'Maximum',
      });
    }
    for (const name of ['below-floor-games', 'schema-changed', 'stale-box-score-snapshots-critical']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `pipeline-guardrails-prod-checks-${name}`,
        TreatMissingData: 'ignore',
        Period: 60,
      });
    }
    // The checker publishes exactly those loss metrics at high resolution.
    expect([...HIGH_RESOLUTION_METRICS].sort()).toEqual([CHECK_METRICS.rowsLost]);
    // Ignoring missing data is deliberate (the heartbeat pages on silence): no synth warning for it.
    const warnings = Annotations.fromStack(prod.stacks.guardrails).findWarning(
      '*',
      Match.stringLikeRegexp('ignores missing data'),
    );
    expect(warnings).toEqual([]);
  });

  it('publishes the function name for the CLIs', () => {
    t.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/pipeline-guardrails/prod/checks/function-name',
      Value: { Ref: logicalId(checker()) },
    });
  });

  it('has a dashboard section for integrity and one for freshness', () => {
    const dc = prod.stacks.guardrails.dataChecks;
    expect(dc.dashboardSection.title).toBe('Data integrity');
    // Five tables: one row-count graph each (own scale and floor line, three per row), losses, the checker.
    expect(dc.dashboardSection.rows.length).toBe(4);
    expect(dc.freshnessDashboardSection?.rows.flat().length).toBe(2);
  });
});

describe('DataChecks elsewhere', () => {
  it('in dev (no read-only secret) reads the created database secret and warns at synth', () => {
    const dev = synthEnvironment('dev');
    Annotations.fromStack(dev.stacks.guardrails).hasWarning(
      '/PipelineGuardrails-dev-Guardrails/DataChecks',
      Match.stringLikeRegexp('checks.credentialsSecretArn is not set'),
    );
    dev.guardrails.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
    });
    dev.guardrails.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'pipeline-guardrails dev: data integrity and freshness checks',
      Timeout: 90,
    });
    // The created database's secret, and the data key it is encrypted with, by identity policy only.
    const policy = JSON.stringify(dev.guardrails.findResources('AWS::IAM::Policy'));
    expect(policy).toMatch(/"secretsmanager:GetSecretValue"/);
    expect(policy).toMatch(/"kms:Decrypt","kms:Encrypt","kms:GenerateDataKey","kms:DescribeKey"/);
  });

  it('makes a custom check alarm per bound, with its severity', () => {
    const raw = cloneRaw(rawConfig('staging'));
    raw.checks.custom = [
      {
        name: 'orphan-box-scores',
        sql: 'SELECT count(*) FROM box_score_players b LEFT JOIN games g USING (game_id) WHERE g.game_id IS NULL',
        min: 0,
        max: 0,
        severity: 'critical',
        description: 'box scores whose game is missing',
      },
    ];
    const staging = synthEnvironment(validateConfig('staging', raw));
    staging.guardrails.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-staging-checks-custom-orphan-box-scores-max',
      MetricName: 'CustomCheckValue',
      Dimensions: Match.arrayWith([{ Name: 'Check', Value: 'orphan-box-scores' }]),
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
    staging.guardrails.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-staging-checks-custom-orphan-box-scores-min',
      ComparisonOperator: 'LessThanThreshold',
    });
  });

  it('names alarms by table, with the schema outside public', () => {
    expect(tableSlug('public', 'hoopr_play_by_play')).toBe('hoopr-play-by-play');
    expect(tableSlug('stats', 'games')).toBe('stats-games');
    expect(loadConfig('prod').checks.tables.length).toBeGreaterThan(0);
  });
});
