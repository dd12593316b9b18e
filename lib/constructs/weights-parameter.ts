import { Stack, Validations } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  colorWeightParameterName,
  COLORS,
  weightsParameterName,
  type Weights,
} from '../../lambda/shared/traffic';

export interface WeightsParameterProps {
  readonly envName: string;
  /** Written only when the parameters do not exist yet (the first deploy). */
  readonly initialWeights: Weights;
  /** Delete the parameters with the stack (dev); otherwise they outlive it like the rest of the state. */
  readonly deleteWithStack: boolean;
}

/**
 * The one durable source of truth of an environment's traffic weights:
 * `/pipeline-guardrails/<env>/routing/weights` (JSON `{"blue":B,"green":G}`, what the CLIs read) and its
 * per-color mirrors `...-blue` / `...-green` (plain numbers, what the routing stack reads at deploy time).
 *
 * They are created with the config's `initialWeights` on the first deploy and NEVER written by
 * CloudFormation again: each is a create-if-absent custom resource (`PutParameter` with `Overwrite: false`
 * on create, nothing on update). From then on only `applyWeights` (the shift command, the rollout, the
 * auto-rollback) writes them, so neither a redeploy nor a later change of `initialWeights` moves traffic.
 */
export class WeightsParameter extends Construct {
  /** Name of the JSON parameter. */
  readonly parameterName: string;
  /** Name of the per-color number parameters. */
  readonly colorParameterNames: Readonly<Record<'blue' | 'green', string>>;
  /** ARNs of all three parameters (for IAM). */
  readonly parameterArns: readonly string[];

  constructor(scope: Construct, id: string, props: WeightsParameterProps) {
    super(scope, id);
    this.parameterName = weightsParameterName(props.envName);
    this.colorParameterNames = {
      blue: colorWeightParameterName(this.parameterName, 'blue'),
      green: colorWeightParameterName(this.parameterName, 'green'),
    };
    const values: [string, string, string][] = [
      [
        'Weights',
        this.parameterName,
        JSON.stringify({ blue: props.initialWeights.blue, green: props.initialWeights.green }),
      ],
      ...COLORS.map((c): [string, string, string] => [
        c === 'blue' ? 'BlueWeight' : 'GreenWeight',
        this.colorParameterNames[c],
        String(props.initialWeights[c]),
      ]),
    ];
    const arnOf = (name: string) =>
      Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) });
    this.parameterArns = values.map(([, name]) => arnOf(name));

    for (const [cid, name, value] of values) {
      new cr.AwsCustomResource(this, cid, {
        resourceType: 'Custom::RoutingWeightsParameter',
        onCreate: {
          service: 'SSM',
          action: 'putParameter',
          parameters: {
            Name: name,
            Value: value,
            Type: 'String',
            Overwrite: false,
            Description:
              'Traffic weights (source of truth). Written by the shift command only; CloudFormation seeds it once.',
          },
          physicalResourceId: cr.PhysicalResourceId.of(name),
          // A parameter left by an earlier stack (or a retained one) keeps its value: it is the truth.
          ignoreErrorCodesMatching: 'ParameterAlreadyExists',
        },
        onDelete: props.deleteWithStack
          ? {
              service: 'SSM',
              action: 'deleteParameter',
              parameters: { Name: name },
              ignoreErrorCodesMatching: 'ParameterNotFound',
            }
          : undefined,
        policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [arnOf(name)] }),
        installLatestAwsSdk: false,
      });
    }
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    const providerRole = provider?.node.tryFindChild('ServiceRole');
    if (providerRole) {
      Validations.of(providerRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's AwsCustomResource provider writes its own logs with the basic execution role; its SSM calls are granted per parameter ARN.",
      });
    }
  }
}
