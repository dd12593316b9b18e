import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildDrillStack, FIXTURE_CHECKS, FIXTURE_DRILL } from './restore-drill-fixture';

/** The drill construct on its own: IAM scoping, network isolation, schedule, alarms, cdk-nag. */
const { stack, drill } = buildDrillStack();
const template = Template.fromStack(stack);
const logicalId = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as import('aws-cdk-lib').CfnElement);

function statementsOf(fn: 'task' | 'verifier'): Record<string, unknown>[] {
  const role = (fn === 'task' ? drill.taskFunction : drill.verifierFunction).function.role!;
  const roleId = logicalId(role);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
        .PolicyDocument.Statement,
  );
}
const bySid = (fn: 'task' | 'verifier', sid: string) => statementsOf(fn).find((s) => s.Sid === sid);
const actionsOf = (fn: 'task' | 'verifier') =>
  statementsOf(fn).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[]);
const DRILL_DB = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':rds:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':db:pipeline-guardrails-test-drill-*',
    ],
  ],
};

describe('RestoreDrill IAM: least privilege', () => {
  it('restores only from the tool’s own snapshots (prefix and managed-by/environment tags)', () => {
    expect(bySid('task', 'RestoreOnlyTheToolsSnapshots')).toMatchObject({
      Action: 'rds:RestoreDBInstanceFromDBSnapshot',
      Condition: {
        StringEquals: {
          'rds:snapshot-tag/managed-by': 'pipeline-guardrails',
          'rds:snapshot-tag/environment': 'test',
        },
      },
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':rds:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':snapshot:pipeline-guardrails-test-*',
          ],
        ],
      },
    });
  });

  it('restores only into prefixed instances that carry the drill tags (tag on create)', () => {
    expect(bySid('task', 'RestoreOnlyIntoPrefixedTaggedDrillInstances')).toEqual({
      Sid: 'RestoreOnlyIntoPrefixedTaggedDrillInstances',
      Effect: 'Allow',
      Action: 'rds:RestoreDBInstanceFromDBSnapshot',
      Resource: DRILL_DB,
      Condition: {
        StringEquals: {
          'aws:RequestTag/managed-by': 'pipeline-guardrails',
          'aws:RequestTag/environment': 'test',
          'aws:RequestTag/reason': 'drill',
        },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by', 'environment', 'reason'] },
      },
    });
    // Tag-on-create in a statement of its own, with the same tags and keys.
    expect(bySid('task', 'TagOnlyNewDrillInstancesWithTheDrillTags')).toMatchObject({
      Action: 'rds:AddTagsToResource',
      Resource: DRILL_DB,
      Condition: {
        StringEquals: { 'aws:RequestTag/reason': 'drill' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by', 'environment', 'reason'] },
      },
    });
  });

  it('modifies (password) and deletes only prefixed instances tagged as drill instances', () => {
    expect(bySid('task', 'ChangePasswordAndDeleteOnlyDrillInstances')).toEqual({
      Sid: 'ChangePasswordAndDeleteOnlyDrillInstances',
      Effect: 'Allow',
      Action: ['rds:ModifyDBInstance', 'rds:DeleteDBInstance'],
      Resource: DRILL_DB,
      Condition: {
        StringEquals: {
          'rds:db-tag/managed-by': 'pipeline-guardrails',
          'rds:db-tag/environment': 'test',
          'rds:db-tag/reason': 'drill',
        },
      },
    });
    // No other statement grants a destructive or modifying RDS action.
    const rdsActions = actionsOf('task').filter((a) => a.startsWith('rds:'));
    expect(new Set(rdsActions)).toEqual(
      new Set([
        'rds:RestoreDBInstanceFromDBSnapshot',
        'rds:AddTagsToResource',
        'rds:ModifyDBInstance',
        'rds:DeleteDBInstance',
        'rds:DescribeDBSnapshots',
        'rds:DescribeDBInstances',
      ]),
    );
    expect(actionsOf('task').filter((a) => /Delete/.test(a))).toEqual(['rds:DeleteDBInstance']);
  });

  it('the verifier reads the drill’s own secret and nothing of production; it has no RDS action', () => {
    const secretId = logicalId(drill.credentials);
    const reads = statementsOf('verifier').filter((s) =>
      (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('secretsmanager:GetSecretValue'),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]!.Resource).toEqual({ Ref: secretId });
    expect(actionsOf('verifier').filter((a) => a.startsWith('rds'))).toEqual([]);
    expect(bySid('verifier', 'ReadManifests')).toMatchObject({
      Action: 'dynamodb:GetItem',
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['snapshot-manifest#*'] } },
    });
  });

  it('the task function writes only drill results to the state table and the drill secret', () => {
    expect(bySid('task', 'WriteDrillResults')).toMatchObject({
      Action: 'dynamodb:PutItem',
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['drill#result'] } },
    });
    const writes = statementsOf('task').filter((s) =>
      (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('secretsmanager:PutSecretValue'),
    );
    expect(writes.map((w) => w.Resource)).toEqual([{ Ref: logicalId(drill.credentials) }]);
  });
});

describe('RestoreDrill network isolation', () => {
  it('the copy’s security group admits only the verifier, on the database port, and sends nothing', () => {
    const sg = logicalId(drill.instanceSecurityGroup);
    const verifier = logicalId(drill.verifierSecurityGroup);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('restore-drill instances'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      SecurityGroupIngress: Match.absent(),
    });
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { GroupId: { 'Fn::GetAtt': [sg, 'GroupId'] } },
    });
    expect(Object.values(ingress).map((r) => (r as { Properties: unknown }).Properties)).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: { 'Fn::GetAtt': [verifier, 'GroupId'] },
      }),
    ]);
  });

  it('the verifier runs in the private subnets and reaches only the copy (PostgreSQL) and HTTPS', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('verifies a restored copy'),
      VpcConfig: {
        SubnetIds: ['subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'],
        SecurityGroupIds: [{ 'Fn::GetAtt': [logicalId(drill.verifierSecurityGroup), 'GroupId'] }],
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('restore-drill verifier'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [logicalId(drill.verifierSecurityGroup), 'GroupId'] },
      FromPort: 5432,
      DestinationSecurityGroupId: { 'Fn::GetAtt': [logicalId(drill.instanceSecurityGroup), 'GroupId'] },
    });
  });

  it('the copy goes into the private subnets only', () => {
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      DBSubnetGroupName: 'pipeline-guardrails-test-drill',
      SubnetIds: ['subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'],
    });
  });
});

describe('RestoreDrill schedule, limits and alarms', () => {
  it('starts on the configured schedule with its own role', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'pipeline-guardrails-test-restore-drill',
      ScheduleExpression: FIXTURE_DRILL.schedule,
      Target: Match.objectLike({ Input: JSON.stringify({ trigger: 'schedule' }) }),
    });
  });

  it('has no schedule when the config gives none (on demand only)', () => {
    const { stack: s } = buildDrillStack({ drill: { config: { ...FIXTURE_DRILL, schedule: undefined } } });
    Template.fromStack(s).resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  it('times the execution out after the restore timeout plus room for the cleanup', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'pipeline-guardrails-test-restore-drill',
      DefinitionString: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`"TimeoutSeconds":${(60 + 90) * 60}`)])],
      }),
    });
  });

  it('pages on a failed drill, warns on no recent success and on a restore slower than the objective', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-drill-failed',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-drill-no-recent-success',
      MetricName: 'RestoreDrillDaysSinceSuccess',
      Threshold: 8,
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-drill-restore-slower-than-rto',
      MetricName: 'RestoreMinutes',
      Threshold: 30,
    });
  });

  it('hands the verifier the tables and timeouts only: no secret ARN, no custom SQL of production', () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/checks-readonly-AbCdEf';
    const { stack: s } = buildDrillStack({
      drill: {
        checks: {
          ...FIXTURE_CHECKS,
          credentialsSecretArn: secret,
          custom: [
            { name: 'orphans', sql: 'SELECT 1', max: 0, severity: 'warning', description: 'orphan rows' },
          ],
        },
      },
    });
    const machine = Object.values(Template.fromStack(s).findResources('AWS::StepFunctions::StateMachine'))[0];
    const text = JSON.stringify(machine);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('orphans');
    expect(text).toContain('lockTimeoutSeconds');
  });

  it('passes cdk-nag (AwsSolutions) with a written reason for every accepted finding', () => {
    const { app } = buildDrillStack({ nag: true });
    expect(() => app.synth()).not.toThrow();
  });
});
