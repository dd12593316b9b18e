import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/**
 * CDK's state machine role trusts `states.amazonaws.com` for any state machine of the account and
 * region (`aws:SourceArn` = `stateMachine:*`). This narrows the trust to the one state machine the role
 * belongs to, by its name (known before deploy, so there is no cycle).
 */
export function restrictTrustToStateMachine(stateMachine: sfn.StateMachine, stateMachineName: string): void {
  const stack = Stack.of(stateMachine);
  const arn = stack.formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: stateMachineName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const role = stateMachine.role.node.defaultChild as iam.CfnRole;
  role.addPropertyOverride('AssumeRolePolicyDocument', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'states.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': arn },
        },
      },
    ],
  });
}
