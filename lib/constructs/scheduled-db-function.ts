import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/**
 * What the scheduled database readers (the data checks, output parity) share: the state table's and the
 * credentials' KMS keys, the acknowledgement of the namespace-scoped PutMetricData statement, and a
 * Scheduler role that may invoke exactly this function.
 */
export function grantStateAndSecretKeys(fn: lambda.IFunction, keys: readonly (kms.IKey | undefined)[]): void {
  const arns = keys.filter((k): k is kms.IKey => k !== undefined).map((k) => k.keyArn);
  if (arns.length > 0) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StateAndSecretKeys',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [...new Set(arns)],
      }),
    );
  }
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'cloudwatch:PutMetricData has no resource type; the statement is limited to the PipelineGuardrails namespace by the cloudwatch:namespace condition.',
  });
}

/** The scheduler's own role (construct id `ScheduleRole` in `scope`): may invoke `fn` and nothing else. */
export function scheduleInvokeRole(scope: Construct, fn: lambda.IFunction, description: string): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'ScheduleRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
    description,
  });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
    reason: 'lambda:InvokeFunction on this one function and its versions/aliases (the grantInvoke pattern).',
  });
  return role;
}
