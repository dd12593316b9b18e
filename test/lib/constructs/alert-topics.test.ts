import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { ALERT_PUBLISHERS, AlertTopics, type AlertTopicsProps } from '../../../lib/constructs/alert-topics';
import { Keys } from '../../../lib/constructs/keys';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ACCOUNT = '111111111111';
const PREFIX = 'pipeline-guardrails-test';

function setup(overrides: Partial<AlertTopicsProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const keys = new Keys(stack, 'Keys', { namePrefix: PREFIX, removalPolicy: RemovalPolicy.DESTROY });
  const topics = new AlertTopics(stack, 'Topics', {
    config: {
      criticalSubscriptions: [
        { protocol: 'https', endpoint: 'https://events.pager.example.com/enqueue' },
        { protocol: 'sms', endpoint: '+15555550100' },
      ],
      warningSubscriptions: [{ protocol: 'email', endpoint: 'team@example.com' }],
    },
    namePrefix: PREFIX,
    key: keys.alerting,
    databaseInstanceIdentifier: 'NBA-Analytics-Test',
    ...overrides,
  });
  return { stack, keys, topics, template: () => Template.fromStack(stack) };
}

/** `arn:<partition>:...` as CloudFormation renders it, for readable comparisons. */
function arn(value: Json): string {
  if (typeof value === 'string') return value;
  const [, parts] = value['Fn::Join'] as [string, Json[]];
  return parts.map((p) => (typeof p === 'string' ? p : 'aws')).join('');
}

function topicStatements(t: Template, topicName: string): Json[] {
  const [topicId] = Object.keys(t.findResources('AWS::SNS::Topic', { Properties: { TopicName: topicName } }));
  const [policy] = Object.values(t.findResources('AWS::SNS::TopicPolicy')).filter((p: Json) =>
    p.Properties.Topics.some((r: Json) => r.Ref === topicId),
  );
  return (policy as Json).Properties.PolicyDocument.Statement;
}

describe('AlertTopics', () => {
  it('creates a critical and a warning topic, both encrypted with the alerting key', () => {
    const t = setup().template();
    for (const severity of ['critical', 'warning']) {
      t.hasResourceProperties('AWS::SNS::Topic', {
        TopicName: `${PREFIX}-${severity}`,
        DisplayName: `${PREFIX}-${severity}`,
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeysAlerting'), 'Arn'] },
      });
    }
  });

  it('maps each severity to its topic', () => {
    const { topics } = setup();
    expect(topics.topicFor('critical')).toBe(topics.critical);
    expect(topics.topicFor('warning')).toBe(topics.warning);
  });

  it('lets exactly the four publishers publish, each limited by account and source ARN, over TLS only', () => {
    const t = setup().template();
    for (const topicName of [`${PREFIX}-critical`, `${PREFIX}-warning`]) {
      const statements = topicStatements(t, topicName);
      expect(statements.find((s) => s.Effect === 'Deny')).toMatchObject({
        Action: 'sns:Publish',
        Principal: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      const allows = statements.filter((s) => s.Effect === 'Allow');
      const bySource = Object.fromEntries(
        allows.map((s) => [
          s.Principal.Service,
          {
            action: s.Action,
            account: s.Condition.StringEquals['aws:SourceAccount'],
            sources: s.Condition.ArnLike['aws:SourceArn'].map(arn),
          },
        ]),
      );
      expect(allows).toHaveLength(ALERT_PUBLISHERS.length);
      expect(bySource).toEqual({
        'cloudwatch.amazonaws.com': {
          action: 'sns:Publish',
          account: ACCOUNT,
          sources: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${PREFIX}-*`],
        },
        'events.rds.amazonaws.com': {
          action: 'sns:Publish',
          account: ACCOUNT,
          // RDS reports identifiers in lower case; the ARN pattern must match that.
          // Only the instance: every event subscription of the app is of source type db-instance.
          sources: [`arn:aws:rds:us-east-1:${ACCOUNT}:db:nba-analytics-test`],
        },
        // Cost guardrails: this account's budgets and cost anomaly subscriptions (global services).
        'budgets.amazonaws.com': {
          action: 'sns:Publish',
          account: ACCOUNT,
          sources: [`arn:aws:budgets::${ACCOUNT}:*`],
        },
        'costalerts.amazonaws.com': {
          action: 'sns:Publish',
          account: ACCOUNT,
          sources: [`arn:aws:ce::${ACCOUNT}:*`],
        },
      });
    }
  });

  it('accepts RDS events of any resource of the account and region when no instance is given', () => {
    const t = setup({ databaseInstanceIdentifier: undefined }).template();
    const rds = topicStatements(t, `${PREFIX}-critical`).find(
      (s) => s.Principal.Service === 'events.rds.amazonaws.com',
    );
    expect(rds.Condition.ArnLike['aws:SourceArn'].map(arn)).toEqual([`arn:aws:rds:us-east-1:${ACCOUNT}:*`]);
  });

  it('subscribes the endpoints from config with their protocols', () => {
    const t = setup().template();
    t.resourceCountIs('AWS::SNS::Subscription', 3);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://events.pager.example.com/enqueue',
      TopicArn: { Ref: Match.stringLikeRegexp('^TopicsCritical') },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sms',
      Endpoint: '+15555550100',
      TopicArn: { Ref: Match.stringLikeRegexp('^TopicsCritical') },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'team@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^TopicsWarning') },
    });
  });

  it('has no subscriptions when config lists none', () => {
    const t = setup({ config: { criticalSubscriptions: [], warningSubscriptions: [] } }).template();
    t.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('lets no EventBridge rule publish (no rule targets a topic), unlike the stock SnsTopic target', () => {
    const t = setup().template();
    for (const topicName of [`${PREFIX}-critical`, `${PREFIX}-warning`]) {
      const services = topicStatements(t, topicName).map((s) => s.Principal?.Service);
      expect(services).not.toContain('events.amazonaws.com');
    }
    // The stock target grants events.amazonaws.com without any condition: add a rule only with its exact ARN.
    const stock = setup();
    new events.Rule(stock.stack, 'Rule', {
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.SnsTopic(stock.topics.warning)],
    });
    const unconditioned = topicStatements(stock.template(), `${PREFIX}-warning`).filter(
      (s) => s.Effect === 'Allow' && s.Condition === undefined,
    );
    expect(unconditioned).toHaveLength(1);
  });
});

describe('Keys: the alerting key policy', () => {
  function keyStatements(t: Template): Json[] {
    const [key] = Object.values(
      t.findResources('AWS::KMS::Key', {
        Properties: { Description: Match.stringLikeRegexp('alert topics') },
      }),
    );
    return (key as Json).Properties.KeyPolicy.Statement;
  }

  it('lets exactly the four publishers use the key to encrypt alerts, each as narrowly as supported', () => {
    const statements = keyStatements(setup().template());
    const services = statements.filter((s) => s.Principal.Service);
    expect(
      Object.fromEntries(
        services.map((s) => [
          s.Principal.Service,
          {
            actions: s.Action,
            account: s.Condition?.StringEquals?.['aws:SourceAccount'],
            sources: s.Condition?.ArnLike?.['aws:SourceArn']?.map(arn),
          },
        ]),
      ),
    ).toEqual({
      'cloudwatch.amazonaws.com': {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        account: ACCOUNT,
        sources: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${PREFIX}-*`],
      },
      'events.rds.amazonaws.com': {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        account: ACCOUNT,
        sources: undefined,
      },
      'budgets.amazonaws.com': {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        account: ACCOUNT,
        sources: undefined,
      },
      'costalerts.amazonaws.com': {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        account: ACCOUNT,
        sources: undefined,
      },
    });
    const others = statements.filter((s) => !s.Principal.Service);
    expect(others).toHaveLength(1);
    expect(others[0].Principal.AWS).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:root`]],
    });
  });

  it('leaves the data key without any service principal', () => {
    const t = setup().template();
    const [dataKey] = Object.values(
      t.findResources('AWS::KMS::Key', {
        Properties: { Description: Match.stringLikeRegexp('state table') },
      }),
    );
    const statements: Json[] = (dataKey as Json).Properties.KeyPolicy.Statement;
    expect(statements.filter((s) => s.Principal.Service)).toEqual([]);
  });
});
