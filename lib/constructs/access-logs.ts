import { Stack, Token } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * Access logs of an Application Load Balancer into `bucket` under `prefix`, with a bucket policy that
 * lets exactly the principal ALB log delivery uses in this region write exactly this account's log keys
 * (Elastic Load Balancing User Guide, "Enable access logs for your Application Load Balancer"):
 * - regions launched before August 2022 (us-east-1, ...): the regional Elastic Load Balancing account,
 *   which signs as itself, so no aws:SourceAccount / aws:SourceArn is present to condition on; the
 *   resource is limited to `<prefix>/AWSLogs/<this account>/*`;
 * - later regions: the `logdelivery.elasticloadbalancing.amazonaws.com` service principal, limited to
 *   this account's application load balancers by aws:SourceAccount and aws:SourceArn.
 * Unlike `logAccessLogs`, it adds no `delivery.logs.amazonaws.com` statements: those serve Network Load
 * Balancer logs, which an ALB never writes.
 */
export function logAlbAccessLogs(lb: elbv2.ApplicationLoadBalancer, bucket: s3.Bucket, prefix: string): void {
  const stack = Stack.of(lb);
  if (Token.isUnresolved(stack.region)) {
    throw new Error(`${lb.node.path}: access logs need a concrete region to pick the log-delivery principal`);
  }
  lb.setAttribute('access_logs.s3.enabled', 'true');
  lb.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  lb.setAttribute('access_logs.s3.prefix', prefix);
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${stack.account}/*`);
  const elbAccount = RegionInfo.get(stack.region).elbv2Account;
  bucket.addToResourcePolicy(
    elbAccount
      ? new iam.PolicyStatement({
          sid: 'AlbLogDeliveryOfThisAccount',
          actions: ['s3:PutObject'],
          principals: [new iam.AccountPrincipal(elbAccount)],
          resources: [objects],
        })
      : new iam.PolicyStatement({
          sid: 'AlbLogDeliveryOfThisAccount',
          actions: ['s3:PutObject'],
          principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
          resources: [objects],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: {
              'aws:SourceArn': `arn:${stack.partition}:elasticloadbalancing:${stack.region}:${stack.account}:loadbalancer/app/*`,
            },
          },
        }),
  );
  // The load balancer checks that it may write when access logging is switched on.
  if (bucket.policy) lb.node.addDependency(bucket.policy);
}
