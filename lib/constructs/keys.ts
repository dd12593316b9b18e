import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  ALERT_PUBLISHERS,
  alertPublisherSourceArns,
  publisherSid,
  type AlertPublisher,
} from './alert-topics';

export interface KeysProps {
  /** `<project>-<env>`, prefix of the key aliases. */
  readonly namePrefix: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Customer-managed keys of the environment, kept in the stateful stack so a redeploy of the
 * stateless stack can never schedule them for deletion:
 * - `data`: the state table, a created database and its secret;
 * - `alerting`: the SNS alert topics; its policy lets CloudWatch alarms, RDS events, Budgets and Cost Anomaly
 *   Detection use it.
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
    this.allowAlertPublishers(props.namePrefix);
  }

  /**
   * Lets exactly the ALERT_PUBLISHERS encrypt messages for the alert topics (SNS server-side encryption
   * calls KMS on the publisher's behalf), each as narrowly as the service supports:
   * - CloudWatch alarms: this account, and only alarms named `<project>-<env>-*`;
   * - RDS events: this account (the topic policy also pins the instance).
   * EventBridge gets nothing: no rule targets a topic (see ALERT_PUBLISHERS).
   * The key cannot be used to publish by itself: sns:Publish is only granted by the topic policies.
   */
  private allowAlertPublishers(namePrefix: string): void {
    const stack = Stack.of(this);
    const sourceArns = alertPublisherSourceArns({
      partition: stack.partition,
      region: stack.region,
      account: stack.account,
      namePrefix,
    });
    const conditions: Record<AlertPublisher, Record<string, Record<string, unknown>>> = {
      'cloudwatch.amazonaws.com': {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': sourceArns['cloudwatch.amazonaws.com'] },
      },
      'events.rds.amazonaws.com': { StringEquals: { 'aws:SourceAccount': stack.account } },
      'budgets.amazonaws.com': { StringEquals: { 'aws:SourceAccount': stack.account } },
      'costalerts.amazonaws.com': { StringEquals: { 'aws:SourceAccount': stack.account } },
    };
    for (const publisher of ALERT_PUBLISHERS) {
      this.alerting.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Allow${publisherSid(publisher)}ToEncryptAlerts`,
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          principals: [new iam.ServicePrincipal(publisher)],
          resources: ['*'],
          conditions: conditions[publisher],
        }),
      );
    }
  }
}
