import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ALERT_PUBLISHERS } from './alert-topics';

export interface KeysProps {
  /** `<project>-<env>`, prefix of the key aliases. */
  readonly namePrefix: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Customer-managed keys of the environment, kept in the stateful stack so a redeploy of the
 * stateless stack can never schedule them for deletion:
 * - `data`: the state table, a created database and its secret;
 * - `alerting`: the SNS alert topics; its policy lets CloudWatch alarms, EventBridge and RDS events use it.
 */
export class Keys extends Construct {
  readonly data: kms.Key;
  readonly alerting: kms.Key;

  constructor(scope: Construct, id: string, props: KeysProps) {
    super(scope, id);
    const common = {
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
      pendingWindow: Duration.days(props.removalPolicy === RemovalPolicy.DESTROY ? 7 : 30),
    };
    this.data = new kms.Key(this, 'Data', {
      ...common,
      alias: `alias/${props.namePrefix}-data`,
      description: `${props.namePrefix}: state table, created database and its credentials`,
    });
    this.alerting = new kms.Key(this, 'Alerting', {
      ...common,
      alias: `alias/${props.namePrefix}-alerting`,
      description: `${props.namePrefix}: SNS alert topics`,
    });
    this.alerting.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlertPublishersToEncrypt',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        principals: ALERT_PUBLISHERS.map((p) => new iam.ServicePrincipal(p)),
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.alerting.env.account } },
      }),
    );
  }
}
