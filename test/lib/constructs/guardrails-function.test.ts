import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { GuardrailsFunction, lambdaEntry, PROJECT_ROOT } from '../../../lib/constructs/guardrails-function';
import * as fs from 'node:fs';
import * as path from 'node:path';

function build(withVpc: boolean): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  const vpc = withVpc
    ? ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['us-east-1a'],
        privateSubnetIds: ['subnet-0123456789abcdef0'],
      })
    : undefined;
  new GuardrailsFunction(stack, 'Fn', {
    entry: lambdaEntry('shared', 'env.ts'),
    description: 'test function',
    logRetention: logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: RemovalPolicy.RETAIN,
    environment: { FOO: 'bar' },
    vpc,
  });
  return Template.fromStack(stack);
}

describe('GuardrailsFunction', () => {
  it('sets the runtime, architecture, tracing, logging and environment defaults once', () => {
    const t = build(false);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 60,
      MemorySize: 256,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', FOO: 'bar' } },
      VpcConfig: Match.absent(),
    });
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', Properties: { RetentionInDays: 30 } });
  });

  it('runs in the given VPC subnets', () => {
    build(true).hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SubnetIds: ['subnet-0123456789abcdef0'] }),
    });
  });

  it('resolves handler entries from the repository, not the working directory', () => {
    expect(path.isAbsolute(lambdaEntry('x.ts'))).toBe(true);
    expect(fs.existsSync(path.join(PROJECT_ROOT, 'package-lock.json'))).toBe(true);
  });
});
