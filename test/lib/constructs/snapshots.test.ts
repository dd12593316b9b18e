import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { rawConfig, validateConfig } from '../../../lib/config';
import { cloneRaw, synthEnvironment, type SynthResult } from '../../support/app';

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
};

/** Every statement of every IAM policy in a template. */
function statements(t: Template): Statement[] {
  const policies = t.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { PolicyDocument: { Statement: Statement[] } } }
  >;
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const snapshotArn = (region: string, env: string, account: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, `:rds:${region}:${account}:snapshot:pipeline-guardrails-${env}-*`],
  ],
});

describe('Snapshots in prod', () => {
  let prod: SynthResult;
  let t: Template;
  const fnId = () =>
    prod.stacks.guardrails.getLogicalId(
      prod.stacks.guardrails.snapshots!.function.function.node.defaultChild as never,
    );

  beforeAll(() => {
    // synthEnvironment runs cdk-nag's AwsSolutions pack and throws on any unacknowledged finding.
    prod = synthEnvironment('prod');
    t = prod.guardrails;
  });

  it('snapshots on the configured schedule and runs the upkeep every 15 minutes, both on EventBridge Scheduler', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'pipeline-guardrails-prod-snapshot',
      ScheduleExpression: 'rate(6 hours)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [fnId(), 'Arn'] },
        Input: '{"action":"snapshot"}',
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SnapshotsScheduleRole'), 'Arn'] },
      }),
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'pipeline-guardrails-prod-snapshot-upkeep',
      ScheduleExpression: 'rate(15 minutes)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId(), 'Arn'] }, Input: '{"action":"maintain"}' }),
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId() },
      MaximumRetryAttempts: 0,
    });
  });

  it('passes the instance, quota, retention and copy settings to the function, one run at a time', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          ENV_NAME: 'prod',
          INSTANCE_IDENTIFIER: 'nba-analytics-prod',
          QUOTA_LIMIT: '100',
          RETENTION: JSON.stringify({
            daily: 7,
            weekly: 4,
            monthly: 6,
            minimum: 4,
            preShiftDays: 30,
            maxDeletionsPerRun: 20,
          }),
          COPY_REGION: 'us-west-2',
          COPY_KMS_KEY_ARN: 'arn:aws:kms:us-west-2:333333333333:key/5e5e5e5e-3333-4333-8333-333333333333',
          COPY_RETENTION: JSON.stringify({
            daily: 7,
            weekly: 4,
            monthly: 3,
            minimum: 2,
            preShiftDays: 7,
            maxDeletionsPerRun: 20,
          }),
        }),
      },
    });
  });

  it('creates snapshots only of the configured instance, only with the tool prefix and tags', () => {
    const all = statements(t);
    const ownTags = {
      StringEquals: {
        'aws:RequestTag/managed-by': 'pipeline-guardrails',
        'aws:RequestTag/environment': 'prod',
      },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by', 'environment', 'reason'] },
    };
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'SnapshotOfTheInstance',
          Action: 'rds:CreateDBSnapshot',
          Resource: {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':rds:us-east-1:333333333333:db:nba-analytics-prod'],
            ],
          },
        }),
        expect.objectContaining({
          Sid: 'SnapshotAsToolSnapshot',
          Action: 'rds:CreateDBSnapshot',
          Resource: snapshotArn('us-east-1', 'prod', '333333333333'),
          Condition: ownTags,
        }),
        expect.objectContaining({
          Sid: 'SnapshotTagOnCreate',
          Action: 'rds:AddTagsToResource',
          Resource: snapshotArn('us-east-1', 'prod', '333333333333'),
          Condition: ownTags,
        }),
      ]),
    );
  });

  it('deletes only prefixed snapshots whose tags say this tool made them, in both regions', () => {
    const deletes = statements(t).filter((s) => actions(s).includes('rds:DeleteDBSnapshot'));
    expect(deletes).toEqual([
      {
        Sid: 'DeleteOnlyOwnSnapshots',
        Effect: 'Allow',
        Action: 'rds:DeleteDBSnapshot',
        Resource: [
          snapshotArn('us-east-1', 'prod', '333333333333'),
          snapshotArn('us-west-2', 'prod', '333333333333'),
        ],
        Condition: {
          StringEquals: {
            'rds:snapshot-tag/managed-by': 'pipeline-guardrails',
            'rds:snapshot-tag/environment': 'prod',
          },
        },
      },
    ]);
  });

  it('copies only its own snapshots, into prefixed tagged copies encrypted with the configured key', () => {
    const all = statements(t);
    const copyKey = 'arn:aws:kms:us-west-2:333333333333:key/5e5e5e5e-3333-4333-8333-333333333333';
    const copyTags = {
      StringEquals: {
        'aws:RequestTag/managed-by': 'pipeline-guardrails',
        'aws:RequestTag/environment': 'prod',
      },
      'ForAllValues:StringEquals': {
        'aws:TagKeys': ['managed-by', 'environment', 'reason', 'source-region'],
      },
    };
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'CopyOnlyOwnSourceSnapshots',
          Action: 'rds:CopyDBSnapshot',
          Resource: snapshotArn('us-east-1', 'prod', '333333333333'),
          Condition: {
            StringEquals: expect.objectContaining({ 'rds:snapshot-tag/managed-by': 'pipeline-guardrails' }),
          },
        }),
        expect.objectContaining({
          Sid: 'CopyIntoPrefixedTaggedCopies',
          Action: 'rds:CopyDBSnapshot',
          Resource: snapshotArn('us-west-2', 'prod', '333333333333'),
          Condition: copyTags,
        }),
        expect.objectContaining({
          Sid: 'TagCopiesOnCreate',
          Action: 'rds:AddTagsToResource',
          Resource: snapshotArn('us-west-2', 'prod', '333333333333'),
          Condition: copyTags,
        }),
        // Service Authorization Reference: a dependent action of a cross-region CopyDBSnapshot.
        expect.objectContaining({
          Sid: 'CrossRegionCopy',
          Action: 'rds:CrossRegionCommunication',
          Resource: '*',
        }),
        expect.objectContaining({
          Sid: 'DescribeTheCopyKeyThroughRds',
          Action: 'kms:DescribeKey',
          Resource: copyKey,
          Condition: { StringEquals: { 'kms:ViaService': 'rds.us-west-2.amazonaws.com' } },
        }),
        expect.objectContaining({
          Sid: 'GrantTheCopyKeyToRds',
          Action: 'kms:CreateGrant',
          Resource: copyKey,
          Condition: {
            StringEquals: { 'kms:ViaService': 'rds.us-west-2.amazonaws.com' },
            Bool: { 'kms:GrantIsForAWSResource': 'true' },
          },
        }),
        expect.objectContaining({
          Sid: 'ReadSourceSnapshotKeyThroughRds',
          Condition: {
            StringEquals: {
              'kms:ViaService': 'rds.us-east-1.amazonaws.com',
              'kms:CallerAccount': '333333333333',
            },
          },
        }),
      ]),
    );
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'PublishSnapshotMetrics',
            Action: 'cloudwatch:PutMetricData',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'PipelineGuardrails' } },
          }),
        ]),
      },
    });
  });

  it('pages when the newest snapshot is older than interval + grace, or the function falls silent', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-snapshots-newest-too-old',
      MetricName: 'NewestSnapshotAgeMinutes',
      Namespace: 'PipelineGuardrails',
      Dimensions: Match.arrayWith([{ Name: 'Region', Value: 'us-east-1' }]),
      Statistic: 'Maximum',
      Threshold: 360 + 60,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlertTopicsCritical') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('AlertTopicsCritical') }],
      AlarmDescription: Match.stringLikeRegexp('RUNBOOK.md#snapshots-too-old'),
    });
  });

  it('warns on any failure: published failures plus function errors', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-snapshots-failed',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlertTopicsWarning') }],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(failures, 0) + FILL(errors, 0)' }),
        Match.objectLike({
          Id: 'failures',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'SnapshotFailures' }),
            Stat: 'Sum',
          }),
        }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'Errors', Namespace: 'AWS/Lambda' }),
          }),
        }),
      ]),
    });
  });

  it('warns at 80% of the manual snapshot quota in both regions, and when copies fall behind', () => {
    for (const [name, region] of [
      ['quota', 'us-east-1'],
      ['copy-quota', 'us-west-2'],
    ]) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `pipeline-guardrails-prod-snapshots-${name}`,
        MetricName: 'ManualSnapshotCount',
        Dimensions: Match.arrayWith([{ Name: 'Region', Value: region }]),
        Threshold: 80,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlertTopicsWarning') }],
      });
    }
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-prod-snapshots-copy-too-old',
      Dimensions: Match.arrayWith([{ Name: 'Region', Value: 'us-west-2' }]),
      Threshold: 360 + 60 + 120,
      TreatMissingData: 'breaching',
    });
  });

  it('publishes the function name for the runbook and the CLI', () => {
    t.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/pipeline-guardrails/prod/snapshots/function-name',
      Value: { Ref: fnId() },
    });
  });

  it('mails the instance backup events through an RDS event subscription', () => {
    t.hasResourceProperties('AWS::RDS::EventSubscription', {
      SubscriptionName: 'pipeline-guardrails-prod-snapshot-events',
      SourceType: 'db-instance',
      SourceIds: ['nba-analytics-prod'],
      EventCategories: ['backup'],
      SnsTopicArn: { Ref: Match.stringLikeRegexp('AlertTopicsWarning') },
      Enabled: true,
    });
  });

  it('exposes a dashboard section and registers its alarms with the factory', () => {
    const snapshots = prod.stacks.guardrails.snapshots!;
    expect(snapshots.dashboardSection.title).toBe('Snapshots');
    expect(snapshots.dashboardSection.rows[0]).toHaveLength(3);
    const names = prod.stacks.guardrails.alarms.alarms
      .map((a) => a.alarmName)
      .filter((n) => n.startsWith('pipeline-guardrails-prod-snapshots-'));
    expect(names.sort()).toEqual([
      'pipeline-guardrails-prod-snapshots-copy-quota',
      'pipeline-guardrails-prod-snapshots-copy-too-old',
      'pipeline-guardrails-prod-snapshots-failed',
      'pipeline-guardrails-prod-snapshots-newest-too-old',
      'pipeline-guardrails-prod-snapshots-quota',
    ]);
  });
});

describe('Snapshots in dev', () => {
  let dev: SynthResult;
  beforeAll(() => {
    dev = synthEnvironment('dev');
  });

  it('snapshots daily with no copy: no copy alarms, no copy permissions', () => {
    const t = dev.guardrails;
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'pipeline-guardrails-dev-snapshot',
      ScheduleExpression: 'rate(1 day)',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-dev-snapshots-newest-too-old',
      Threshold: 1440 + 180,
    });
    const names = dev.stacks.guardrails.alarms.alarms.map((a) => a.alarmName);
    expect(names).not.toContain('pipeline-guardrails-dev-snapshots-copy-too-old');
    expect(statements(t).filter((s) => actions(s).includes('rds:CopyDBSnapshot'))).toEqual([]);
  });

  it('snapshots the created instance, whose automated backups and copy-tags-to-snapshot come from the database config', () => {
    dev.guardrails.hasResourceProperties('AWS::RDS::EventSubscription', {
      SubscriptionName: 'pipeline-guardrails-dev-snapshot-events',
      SourceIds: [{ 'Fn::ImportValue': Match.stringLikeRegexp('DatabaseInstance') }],
    });
    dev.stateful.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        BackupRetentionPeriod: 1,
        CopyTagsToSnapshot: true,
        DeletionProtection: false,
        StorageEncrypted: true,
      }),
    });
  });
});

describe('Snapshots with other configs', () => {
  it('keeps a protected, snapshot-on-delete created database when the config asks for it', () => {
    const raw = cloneRaw(rawConfig('dev'));
    Object.assign(raw.database, {
      deletionProtection: true,
      removalPolicy: 'snapshot',
      backupRetentionDays: 14,
    });
    const { stateful } = synthEnvironment(validateConfig('dev', raw));
    stateful.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Properties: Match.objectLike({ BackupRetentionPeriod: 14, DeletionProtection: true }),
    });
  });

  it('builds nothing when disabled, and warns about a copy key of another account', () => {
    const off = cloneRaw(rawConfig('dev'));
    off.snapshots = { enabled: false };
    const disabled = synthEnvironment(validateConfig('dev', off));
    expect(disabled.stacks.guardrails.snapshots).toBeUndefined();
    expect(
      disabled.guardrails.findResources('AWS::RDS::EventSubscription', {
        Properties: { SubscriptionName: 'pipeline-guardrails-dev-snapshot-events' },
      }),
    ).toEqual({});

    const foreignKey = cloneRaw(rawConfig('dev'));
    foreignKey.snapshots = {
      copy: {
        region: 'us-west-2',
        kmsKeyArn: 'arn:aws:kms:us-west-2:999999999999:key/5e5e5e5e-3333-4333-8333-333333333333',
      },
    };
    const warned = synthEnvironment(validateConfig('dev', foreignKey));
    Annotations.fromStack(warned.stacks.guardrails).hasWarning(
      '/PipelineGuardrails-dev-Guardrails/Snapshots',
      Match.stringLikeRegexp('belongs to account 999999999999, not 111111111111'),
    );
  });
});
