import type { IAspect } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { accept } from './acknowledge';

/** Construct id of the provider function CDK's AwsCustomResource shares per stack. */
const AWS_CUSTOM_RESOURCE_PROVIDER = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * The kinds of accepted findings that come from CDK itself rather than from a construct of this app,
 * applied to each such resource wherever it appears (also in constructs other branches add):
 * - every role-owned inline policy CDK writes for grants (`iam.Policy`, e.g. `<role>/DefaultPolicy`);
 * - the AwsCustomResource provider function (deploy-time only, CDK's settings);
 * - the public subnets of a VPC this app creates (they hold the NAT gateway only).
 */
export class AcknowledgeCdkDefaults implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof iam.Policy) {
      accept.roleOwnPolicy(
        node,
        `Grants of one role, written by CDK as that role's own inline policy (${node.node.path}); it is created and deleted with the role.`,
      );
    } else if (node instanceof lambda.Function && node.node.id === AWS_CUSTOM_RESOURCE_PROVIDER) {
      const why =
        'CDK AwsCustomResource provider: runs only during deploys, calls AWS APIs only (SSM), invoked synchronously by CloudFormation, which reports its failures.';
      accept.cdkProviderFunction(node, why);
      accept.functionOutsideVpc(node, why);
      accept.unreservedConcurrency(node, why);
      accept.failuresWatchedElsewhere(node, why);
    } else if (node instanceof ec2.PublicSubnet) {
      accept.sandboxPublicSubnet(
        node,
        'Public subnet of the sandbox VPC this app creates: it holds the NAT gateway only; the load balancer, the database, the functions and the services are in the private subnets.',
      );
    }
  }
}
