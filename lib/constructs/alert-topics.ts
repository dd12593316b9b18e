import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AlertingConfig } from '../config';
import { accept } from '../nag/acknowledge';
import type { AlarmFactory } from './alarm-factory';

export type Severity = 'critical' | 'warning';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning'];

/**
 * AWS services that publish to the alert topics (and so may use their key). Nothing else may. No
 * EventBridge rule targets a topic, so `events.amazonaws.com` is not among them: add it back (with the
 * rules' exact ARNs) only together with such a rule.
 */
export const ALERT_PUBLISHERS = [
  'cloudwatch.amazonaws.com',
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
    // RDS sets the source resource as SourceArn; every subscription of this app is of the instance.
    'events.rds.amazonaws.com':
      instance === undefined
        ? [`${rds}:*`]
        : [`${rds}:db:${Token.isUnresolved(instance) ? instance : instance.toLowerCase()}`],
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
 * TLS-only, publishable only by CloudWatch alarms of this environment, RDS event subscriptions of the
 * environment's instance, and this account's budgets and cost anomaly subscriptions (aws:SourceAccount and
 * aws:SourceArn conditions).
 */
export class AlertTopics extends Construct {
  readonly critical: sns.Topic;
  readonly warning: sns.Topic;
  /**
   * Per topic with subscribers: the redrive (dead-letter) queue where SNS puts a message it could not
   * deliver to a subscriber after its retries (a paging service down, an endpoint refusing it).
   */
  readonly redriveQueues: Partial<Record<Severity, sqs.Queue>> = {};

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
    for (const severity of SEVERITIES) {
      const subs =
        severity === 'critical' ? props.config.criticalSubscriptions : props.config.warningSubscriptions;
      if (subs.length === 0) continue;
      const queue = new sqs.Queue(this, severity === 'critical' ? 'CriticalRedrive' : 'WarningRedrive', {
        queueName: `${props.namePrefix}-${severity}-undelivered`,
        // SNS can deliver to an SSE-SQS queue without a key policy of its own; alerts carry no secrets.
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      accept.snsRedriveQueue(
        queue,
        `The ${severity} topic's subscriptions redrive undelivered alerts here; nothing reads it as a work queue, so it needs no DLQ of its own.`,
      );
      this.redriveQueues[severity] = queue;
      for (const s of subs) this.topicFor(severity).addSubscription(toSubscription(s, queue));
    }
  }

  /**
   * One alarm per redrive queue: a message in it is an alert that reached no one on that channel after SNS's
   * retries; it stays there (14 days) until someone reads it, so the alarm neither flaps nor resolves by
   * itself. Both mail (warning): a pager path that fails cannot be trusted to page about itself. It is the
   * only alarm on undelivered pages (SNS's NumberOfNotificationsFailed of the same deliveries is graphed, not
   * alarmed: one cause, one notice). Called once the alarm factory exists (it needs the topics first).
   */
  createRedriveAlarms(alarms: AlarmFactory): cloudwatch.Alarm[] {
    return SEVERITIES.flatMap((severity) => {
      const queue = this.redriveQueues[severity];
      if (!queue) return [];
      const what = severity === 'critical' ? 'pages' : 'mails';
      return [
        alarms.createAlarm(this, severity === 'critical' ? 'CriticalUndelivered' : 'WarningUndelivered', {
          area: 'alerting',
          what: `${severity}-undelivered`,
          severity: 'warning',
          metric: queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          // An empty queue publishes zeros; no datapoint at all is not a failed delivery.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          meaning: `SNS could not deliver ${what} (${severity} topic) to at least one subscriber after its retries; they are kept in ${queue.queueName}.${severity === 'critical' ? ' The pager path is broken: this mail is the notice.' : ''}`,
          firstCheck: `The messages in SQS queue ${queue.queueName} (the alert and which endpoint failed), then the subscriber's side (paging service integration, mailbox; PendingConfirmation?).`,
          runbookAnchor: 'alerting-undelivered',
        }),
      ];
    });
  }

  topicFor(severity: Severity): sns.ITopic {
    return severity === 'critical' ? this.critical : this.warning;
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
    case 'events.rds.amazonaws.com':
      return 'RdsEvents';
    case 'budgets.amazonaws.com':
      return 'Budgets';
    case 'costalerts.amazonaws.com':
      return 'CostAnomalyDetection';
  }
}

function toSubscription(
  s: AlertingConfig['criticalSubscriptions'][number],
  deadLetterQueue: sqs.IQueue,
): sns.ITopicSubscription {
  switch (s.protocol) {
    case 'email':
      return new subscriptions.EmailSubscription(s.endpoint, { deadLetterQueue });
    case 'sms':
      return new subscriptions.SmsSubscription(s.endpoint, { deadLetterQueue });
    case 'https':
      return new subscriptions.UrlSubscription(s.endpoint, {
        protocol: sns.SubscriptionProtocol.HTTPS,
        deadLetterQueue,
      });
  }
}
