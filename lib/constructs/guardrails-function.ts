import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { accept } from '../nag/acknowledge';

/** Repository root: where package-lock.json lives and bundling starts. */
export const PROJECT_ROOT = path.join(__dirname, '..', '..');

/** Absolute path of a handler under lambda/, e.g. `lambdaEntry('data-checks', 'handler.ts')`. */
export function lambdaEntry(...parts: string[]): string {
  return path.join(PROJECT_ROOT, 'lambda', ...parts);
}

export interface GuardrailsFunctionProps {
  /** Absolute path of the handler file (use `lambdaEntry`). */
  readonly entry: string;
  /** What the function does; shown in the console. */
  readonly description: string;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** Exported handler name. @default handler */
  readonly handler?: string;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Environment variables for the handler. @default none */
  readonly environment?: Record<string, string>;
  /** Run inside this VPC. @default not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** Subnets within `vpc`. @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups for the function's network interfaces (with `vpc`). @default one is created */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** Concurrency cap. @default unreserved */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Why the function runs outside a VPC (cdk-nag LambdaInsideVPC), when `vpc` is not given.
   * @default it calls AWS APIs only
   */
  readonly outsideVpcReason?: string;
  /**
   * Who notices a failed invocation, so no dead-letter queue is needed (cdk-nag LambdaDLQ and
   * Serverless-LambdaAsyncFailureDestination). @default the caller's own alarms on the function's errors
   */
  readonly failureHandling?: string;
}

/**
 * The one way this app creates a Lambda function: Node.js 24 on ARM, X-Ray tracing, a log group with
 * retention, source maps, and bundling by the local esbuild (no Docker). Permissions are given by the
 * caller with `grant*` calls.
 */
export class GuardrailsFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GuardrailsFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: props.memorySize ?? 256,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? { subnets: props.vpc.privateSubnets }) : undefined,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        // pg tries `require('pg-native')` only when asked for native bindings, which this app never does.
        externalModules: ['pg-native'],
        forceDockerBundling: false,
        logLevel: nodejs.LogLevel.WARNING,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AWSLambdaBasicExecutionRole only lets the function write its own logs; the log group is created here with retention.',
    });
    const name = props.description;
    if (!props.vpc) {
      accept.functionOutsideVpc(
        this.function,
        props.outsideVpcReason ??
          `${name}: calls AWS APIs only (no database, nothing inside the VPC), so it runs outside one and needs no NAT.`,
      );
    }
    if (props.reservedConcurrentExecutions === undefined) {
      accept.unreservedConcurrency(
        this.function,
        `${name}: invoked only by its own schedule, rule or state machine, so it cannot exhaust the account's concurrency; a reservation would take from the shared pool.`,
      );
    }
    accept.failuresWatchedElsewhere(
      this.function,
      props.failureHandling ??
        `${name}: a failed run raises an alarm on the function's errors (or fails its synchronous caller), and the next scheduled run retries.`,
    );
    if (props.vpc) {
      Validations.of(this.function).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'AWSLambdaVPCAccessExecutionRole is the AWS-maintained minimum for creating the network interfaces of a function in a VPC.',
      });
    }
  }
}
