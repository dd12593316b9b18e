import {
  CustomResource,
  Duration,
  Stack,
  Validations,
  type CfnElement,
  type RemovalPolicy,
} from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { accept } from '../nag/acknowledge';
import { parameterPath, resourcePrefix } from '../project';
import type { Weights } from '../../lambda/shared/traffic';
import { GuardrailsFunction, lambdaEntry } from './guardrails-function';

export interface WeightedForwardRuleProps {
  readonly envName: string;
  readonly listener: elbv2.IApplicationListener;
  /** The listener's load balancer (IAM scope without a reference to the listener: no cycle). */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly blueTargetGroup: elbv2.IApplicationTargetGroup;
  readonly greenTargetGroup: elbv2.IApplicationTargetGroup;
  /** Weights of the rule when it is first created; never applied again. */
  readonly initialWeights: Weights;
  /** The state table: the deploy guard reads the traffic lease there. */
  readonly stateTable: dynamodb.ITable;
  /**
   * What the guard fingerprints: when it changes, the guard runs (and fails while the lease is held)
   * before the resources that depend on it are touched.
   */
  readonly guardFingerprint: readonly string[];
  /** Priority of the weighted rule on the listener. @default 1 */
  readonly priority?: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * The one live representation of the traffic weights, kept out of CloudFormation's hands: a listener rule
 * (path-pattern "*") created by a custom resource with `initialWeights` and afterwards changed only by the
 * traffic writers (lambda/shared/traffic.ts). On update the custom resource refreshes target-group ARNs and
 * the priority and keeps the live weights; it deletes the rule with the stack. The listener's own default
 * action (CloudFormation's) forwards to blue only: the fallback.
 *
 * Plus the deploy guard (`guard`): a custom resource that fails while a shift or plan holds the traffic
 * lease; make routing resources depend on it (`guardResources`).
 */
export class WeightedForwardRule extends Construct {
  readonly ruleArn: string;
  readonly guard: CustomResource;
  /** The custom resource that owns the rule (depend on it for green's attachment). */
  readonly rule: CustomResource;
  readonly handler: GuardrailsFunction;

  constructor(scope: Construct, id: string, props: WeightedForwardRuleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = resourcePrefix(props.envName);
    this.handler = new GuardrailsFunction(this, 'Handler', {
      entry: lambdaEntry('weighted-rule', 'handler.ts'),
      description: `${prefix}: creates the weighted listener rule once, keeps its weights on update; deploy guard`,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      timeout: Duration.seconds(60),
    });
    const fn = this.handler.function;
    const ruleArns = stack.formatArn({
      service: 'elasticloadbalancing',
      resource: 'listener-rule',
      resourceName: `${props.loadBalancer.loadBalancerFullName}/*`,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageTheWeightedRule',
        actions: [
          'elasticloadbalancing:CreateRule',
          'elasticloadbalancing:ModifyRule',
          'elasticloadbalancing:DeleteRule',
          'elasticloadbalancing:SetRulePriorities',
        ],
        resources: [
          stack.formatArn({
            service: 'elasticloadbalancing',
            resource: 'listener',
            resourceName: `${props.loadBalancer.loadBalancerFullName}/*`,
          }),
          ruleArns,
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadRules',
        actions: ['elasticloadbalancing:DescribeRules'],
        resources: ['*'],
      }),
    );
    props.stateTable.grantReadData(fn);
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'elasticloadbalancing:DescribeRules has no resource-level permission.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:${stack.region}:${stack.account}:listener-rule/<${stack.getLogicalId(props.loadBalancer.node.defaultChild as CfnElement)}.LoadBalancerFullName>/*]`,
        reason:
          'The rule ARN is only known after the custom resource created it: rule changes are limited to rules of this load balancer.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:${stack.region}:${stack.account}:listener/<${stack.getLogicalId(props.loadBalancer.node.defaultChild as CfnElement)}.LoadBalancerFullName>/*]`,
        reason:
          "CreateRule on this load balancer's listeners (naming the listener itself would make a dependency cycle with the deploy guard).",
      },
      {
        id: 'AwsSolutions-IAM5[Action::dynamodb:*]',
        reason: 'Generated by Table.grantReadData: read-only access to the state table (the lease).',
      },
    );

    // Read once, at the rule's creation, to keep the weights of the earlier SSM-parameter design.
    const legacyName = parameterPath(props.envName, 'routing', 'weights');
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheLegacyWeightsParameter',
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: legacyName.slice(1) }),
        ],
      }),
    );
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn });
    for (const child of provider.node.findAll()) {
      Validations.of(child).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            "CDK's custom resource provider framework function writes its own logs with the basic execution role.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
          reason: 'The provider framework invokes the handler function (and its versions).',
        },
        {
          id: 'AwsSolutions-L1',
          reason: "The provider framework function's runtime is chosen by aws-cdk-lib.",
        },
      );
    }

    // CDK's provider framework function (deploy time only; CloudFormation calls it and reports its failures).
    const framework = provider.node.findChild('framework-onEvent');
    const why =
      "CDK's custom resource provider framework: runs only during deploys, calls Lambda (the handler) only, invoked synchronously by CloudFormation, which reports its failures.";
    accept.cdkProviderFunction(framework, why);
    accept.functionOutsideVpc(framework, why);
    accept.unreservedConcurrency(framework, why);
    accept.failuresWatchedElsewhere(framework, why);

    this.guard = new CustomResource(this, 'DeployGuard', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::TrafficDeployGuard',
      properties: {
        EnvName: props.envName,
        StateTableName: props.stateTable.tableName,
        // Any change of these (resolved by CloudFormation) updates the guard, which then runs first.
        Guarded: [...props.guardFingerprint],
      },
    });

    const rule = (this.rule = new CustomResource(this, 'Rule', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WeightedForwardRule',
      properties: {
        EnvName: props.envName,
        StateTableName: props.stateTable.tableName,
        ListenerArn: props.listener.listenerArn,
        Priority: props.priority ?? 1,
        BlueTargetGroupArn: props.blueTargetGroup.targetGroupArn,
        GreenTargetGroupArn: props.greenTargetGroup.targetGroupArn,
        InitialBlueWeight: props.initialWeights.blue,
        InitialGreenWeight: props.initialWeights.green,
        LegacyWeightsParameterName: legacyName,
      },
    }));
    rule.node.addDependency(this.guard);
    this.ruleArn = rule.getAttString('RuleArn');
  }

  /** Makes routing resources wait for the deploy guard (it fails while the traffic lease is held). */
  guardResources(...resources: Construct[]): void {
    for (const r of resources) r.node.addDependency(this.guard);
  }
}
