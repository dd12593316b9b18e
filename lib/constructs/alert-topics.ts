import { Stack, Token } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AlertingConfig } from '../config';

export type Severity = 'critical' | 'warning';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning'];

/** AWS services that publish to the alert topics (and so may use their key). Nothing else may. */
export const ALERT_PUBLISHERS = [
  'cloudwatch.amazonaws.com',
  'events.amazonaws.com',
  'events.rds.amazonaws.com',
  // Cost guardrails: the budget's notifications and the cost anomaly subscription (warning topic).
  'budgets.amazonaws.com',
  'costalerts.amazonaws.com',
] as const;
export type AlertPublisher = (typeof ALERT_PUBLISHERS)[number];

/**
 * The `aws:SourceArn` patterns each publisher is limited to (topic policy; the alerting key uses the
 * CloudWatch one too). Derived from the same prefix the alarm names are built from, so they cannot drift.
 */
export function alertPublisherSourceArns(p: {
  readonly partition?: string;
  readonly region: string;
  readonly account: string;
  /** `<project>-<env>`: every alarm name starts with it. */
  readonly namePrefix: string;
  /** RDS instance whose events may publish; every RDS resource of the account and region when absent. */
  readonly databaseInstanceIdentifier?: string;
}): Record<AlertPublisher, string[]> {
  const partition = p.partition ?? 'aws';
  const rds = `arn:${partition}:rds:${p.region}:${p.account}`;
  const instance = p.databaseInstanceIdentifier;
  return {
    // Only this environment's alarms (the composite alarm has no actions; see GuardrailsStack).
    'cloudwatch.amazonaws.com': [
      `arn:${partition}:cloudwatch:${p.region}:${p.account}:alarm:${p.namePrefix}-*`,
    ],
    // Rules of this account and region: CloudFormation names rules itself, so no tighter pattern is stable.
    'events.amazonaws.com': [`arn:${partition}:events:${p.region}:${p.account}:rule/*`],
    // RDS sets the source resource (the instance, or a snapshot for snapshot events) as SourceArn.
    'events.rds.amazonaws.com':
      instance === undefined
        ? [`${rds}:*`]
        : [
            `${rds}:db:${Token.isUnresolved(instance) ? instance : instance.toLowerCase()}`,
            `${rds}:snapshot:*`,
          ],
    // Budgets and Cost Explorer are global: their ARNs have no region.
    'budgets.amazonaws.com': [`arn:${partition}:budgets::${p.account}:*`],
    'costalerts.amazonaws.com': [`arn:${partition}:ce::${p.account}:*`],
  };
}

export interface AlertTopicsProps {
  /** The subscriptions are what is used; the rest of the alerting section may be passed as is. */
  readonly config: Pick<AlertingConfig, 'criticalSubscriptions' | 'warningSubscriptions'> &
    Partial<AlertingConfig>;
  /** `<project>-<env>`, prefix of the topic names and of every alarm name. */
  readonly namePrefix: string;
  /** Customer-managed key for the topics; its policy must let ALERT_PUBLISHERS use it (see Keys). */
  readonly key: kms.IKey;
  /**
   * The environment's RDS instance: RDS event notifications are accepted from it (and from snapshots).
   * @default RDS events of any resource in this account and region
   */
  readonly databaseInstanceIdentifier?: string;
}

/**
 * Two topics per environment: `critical` pages (paging service, SMS), `warning` mails. KMS-encrypted,
 * TLS-only, publishable only by CloudWatch alarms of this environment, EventBridge rules and RDS event
 * subscriptions of this account and region, and this account's budgets and cost anomaly subscriptions
 * (aws:SourceAccount and aws:SourceArn conditions).
 */
export class AlertTopics extends Construct {
  readonly critical: sns.Topic;
  readonly warning: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertTopicsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const sourceArns = alertPublisherSourceArns({
      partition: stack.partition,
      region: stack.region,
      account: stack.account,
      namePrefix: props.namePrefix,
      databaseInstanceIdentifier: props.databaseInstanceIdentifier,
    });
    this.critical = this.createTopic('Critical', `${props.namePrefix}-critical`, props.key, sourceArns);
    this.warning = this.createTopic('Warning', `${props.namePrefix}-warning`, props.key, sourceArns);
    for (const s of props.config.criticalSubscriptions) this.critical.addSubscription(toSubscription(s));
    for (const s of props.config.warningSubscriptions) this.warning.addSubscription(toSubscription(s));
  }

  topicFor(severity: Severity): sns.ITopic {
    return severity === 'critical' ? this.critical : this.warning;
  }

  /**
   * An EventBridge rule target that publishes to the topic of `severity`. Use it instead of
   * `new targets.SnsTopic(topic)`, which adds a second, unconditioned `events.amazonaws.com` statement to
   * the topic policy; the policy here already lets EventBridge rules of this account publish.
   */
  eventTarget(severity: Severity, message?: events.RuleTargetInput): events.IRuleTarget {
    const topic = this.topicFor(severity);
    return {
      bind: () => ({ arn: topic.topicArn, input: message, targetResource: topic }),
    };
  }

  private createTopic(
    id: string,
    topicName: string,
    key: kms.IKey,
    sourceArns: Record<AlertPublisher, string[]>,
  ): sns.Topic {
    const topic = new sns.Topic(this, id, {
      topicName,
      displayName: topicName,
      masterKey: key,
      enforceSSL: true,
    });
    for (const publisher of ALERT_PUBLISHERS) {
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Allow${publisherSid(publisher)}OfThisEnvironment`,
          actions: ['sns:Publish'],
          principals: [new iam.ServicePrincipal(publisher)],
          resources: [topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': topic.env.account },
            ArnLike: { 'aws:SourceArn': sourceArns[publisher] },
          },
        }),
      );
    }
    return topic;
  }
}

/** `cloudwatch.amazonaws.com` -> `CloudwatchAlarms`, etc.: readable statement ids. */
export function publisherSid(publisher: AlertPublisher): string {
  switch (publisher) {
    case 'cloudwatch.amazonaws.com':
      return 'CloudWatchAlarms';
    case 'events.amazonaws.com':
      return 'EventBridgeRules';
    case 'events.rds.amazonaws.com':
      return 'RdsEvents';
    case 'budgets.amazonaws.com':
      return 'Budgets';
    case 'costalerts.amazonaws.com':
      return 'CostAnomalyDetection';
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
