import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AlertingConfig } from '../config';

export type Severity = 'critical' | 'warning';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning'];

/** AWS services that publish to the alert topics (and so may use their key). */
export const ALERT_PUBLISHERS = [
  'cloudwatch.amazonaws.com',
  'events.amazonaws.com',
  'events.rds.amazonaws.com',
];

export interface AlertTopicsProps {
  readonly config: AlertingConfig;
  /** `<project>-<env>`, prefix of the topic names. */
  readonly namePrefix: string;
  /** Customer-managed key for the topics; its policy must let ALERT_PUBLISHERS use it (see Keys). */
  readonly key: kms.IKey;
}

/**
 * Two topics per environment: `critical` pages (paging service, SMS), `warning` mails. KMS-encrypted,
 * TLS-only, publishable by CloudWatch alarms, EventBridge rules and RDS event subscriptions of this account.
 */
export class AlertTopics extends Construct {
  readonly critical: sns.Topic;
  readonly warning: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertTopicsProps) {
    super(scope, id);
    this.critical = this.createTopic('Critical', `${props.namePrefix}-critical`, props);
    this.warning = this.createTopic('Warning', `${props.namePrefix}-warning`, props);
    for (const s of props.config.criticalSubscriptions) this.critical.addSubscription(toSubscription(s));
    for (const s of props.config.warningSubscriptions) this.warning.addSubscription(toSubscription(s));
  }

  topicFor(severity: Severity): sns.ITopic {
    return severity === 'critical' ? this.critical : this.warning;
  }

  private createTopic(id: string, topicName: string, props: AlertTopicsProps): sns.Topic {
    const topic = new sns.Topic(this, id, {
      topicName,
      displayName: topicName,
      masterKey: props.key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlertPublishersOfThisAccount',
        actions: ['sns:Publish'],
        principals: ALERT_PUBLISHERS.map((p) => new iam.ServicePrincipal(p)),
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': topic.env.account } },
      }),
    );
    return topic;
  }
}

function toSubscription(s: AlertingConfig['criticalSubscriptions'][number]): sns.ITopicSubscription {
  switch (s.protocol) {
    case 'email':
      return new subscriptions.EmailSubscription(s.endpoint);
    case 'sms':
      return new subscriptions.SmsSubscription(s.endpoint);
    case 'https':
      return new subscriptions.UrlSubscription(s.endpoint, { protocol: sns.SubscriptionProtocol.HTTPS });
  }
}
