import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { checksSchema } from '../../../lib/config/sections/checks';
import { drillSchema } from '../../../lib/config/sections/snapshots';
import { AlarmFactory } from '../../../lib/constructs/alarm-factory';
import { AlertTopics } from '../../../lib/constructs/alert-topics';
import { RestoreDrill, type RestoreDrillProps } from '../../../lib/constructs/restore-drill';

/** Checks of the fixture environment `test`: what the drill verifies. */
export const FIXTURE_CHECKS = checksSchema.parse({
  tables: [
    { table: 'games', minRows: 100, appendOnly: true },
    { table: 'events', noDecrease: true },
  ],
});

export const FIXTURE_DRILL = drillSchema.parse({
  schedule: 'cron(0 5 ? * SUN *)',
  instanceClass: 'db.t4g.medium',
  timeoutMinutes: 60,
  maxDaysWithoutSuccess: 8,
  recoveryTimeObjectiveMinutes: 30,
});

export interface DrillFixtureOptions {
  readonly drill?: Partial<RestoreDrillProps>;
  readonly nag?: boolean;
}

/**
 * A test stack with what the drill construct needs from the rest of the app (a VPC with private subnets,
 * topics, alarm factory, an encrypted state table), so the construct is tested on its own.
 */
export function buildDrillStack(options: DrillFixtureOptions = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'DrillTest', { env: { account: '111111111111', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'],
  });
  const topics = new AlertTopics(stack, 'Topics', {
    config: {
      criticalSubscriptions: [],
      warningSubscriptions: [],
      runbookUrl: 'https://git.example.com/RUNBOOK.md',
    },
    namePrefix: 'pipeline-guardrails-test',
    key,
  });
  const alarms = new AlarmFactory(stack, 'Alarms', {
    topics,
    envName: 'test',
    runbookUrl: 'https://git.example.com/RUNBOOK.md',
  });
  const table = new dynamodb.Table(stack, 'State', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
  });
  const drill = new RestoreDrill(stack, 'Drill', {
    envName: 'test',
    config: FIXTURE_DRILL,
    checks: FIXTURE_CHECKS,
    vpc,
    subnets: { subnets: vpc.privateSubnets },
    database: { port: 5432, databaseName: 'nba' },
    stateTable: table,
    alarms,
    criticalTopic: topics.critical,
    logRetention: logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    ...options.drill,
  });
  Validations.of(table).acknowledge({ id: 'AwsSolutions-DDB3', reason: 'test fixture' });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, drill, alarms, topics, table };
}

/** Resource names the synthesized definition's task ARNs are replaced with. */
export const TASK_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:drill-task';
export const VERIFIER_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:drill-verifier';

/** The drill state machine's synthesized definition, with its CloudFormation tokens resolved. */
export function synthesizedDrillDefinition(): StateMachineDefinition {
  const { stack, drill } = buildDrillStack();
  const template = Template.fromStack(stack);
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const ds = (
    Object.values(machines)[0] as { Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }
  ).Properties.DefinitionString;
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as import('aws-cdk-lib').CfnElement);
  const taskId = logicalId(drill.taskFunction.function);
  const verifierId = logicalId(drill.verifierFunction.function);
  const text = ds['Fn::Join'][1]
    .map((p) => {
      if (typeof p === 'string') return p;
      const ref = JSON.stringify(p);
      if (ref.includes(taskId)) return TASK_ARN;
      if (ref.includes(verifierId)) return VERIFIER_ARN;
      if (ref === '{"Ref":"AWS::Partition"}') return 'aws';
      if (ref.includes('Ref')) return 'arn:aws:sns:us-east-1:111111111111:critical';
      throw new Error(`unexpected token in the definition: ${ref}`);
    })
    .join('');
  return JSON.parse(text) as StateMachineDefinition;
}
