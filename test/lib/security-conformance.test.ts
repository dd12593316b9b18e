import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { rawConfig, validateConfig } from '../../lib/config';
import { synthEnvironment, type SynthResult } from '../support/app';

/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation JSON */
type Json = any;

const ofType = (t: Template, type: string): [string, Json][] =>
  Object.entries(t.toJSON().Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
const text = (v: unknown) => JSON.stringify(v);

describe('security conformance: grants nobody needs are gone, the rest are scoped', () => {
  let prod: SynthResult;
  let dev: SynthResult;
  beforeAll(() => {
    prod = synthEnvironment('prod');
    dev = synthEnvironment('dev');
  });

  it('trusts each state machine role only from its own state machine (rollout, restore drill)', () => {
    const roles = ofType(prod.guardrails, 'AWS::IAM::Role').filter(([, r]) =>
      text(r.Properties.AssumeRolePolicyDocument).includes('states.amazonaws.com'),
    );
    const trusted = roles.map(([, r]) => {
      const [statement] = r.Properties.AssumeRolePolicyDocument.Statement;
      expect(statement.Condition.StringEquals).toEqual({ 'aws:SourceAccount': '333333333333' });
      const arn = statement.Condition.ArnLike['aws:SourceArn']['Fn::Join'][1];
      expect(arn[0]).toBe('arn:');
      return String(arn[2]).replace(/^:states:us-east-1:333333333333:stateMachine:/, '');
    });
    expect(trusted.sort()).toEqual([
      'pipeline-guardrails-prod-restore-drill',
      'pipeline-guardrails-prod-rollout',
    ]);
  });

  it("lets only the region's ALB log delivery write this account's access-log keys, nothing for NLB delivery", () => {
    const [[, policy]] = ofType(prod.guardrails, 'AWS::S3::BucketPolicy') as [[string, Json]];
    const allows = policy.Properties.PolicyDocument.Statement.filter((s: Json) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Sid: 'AlbLogDeliveryOfThisAccount', Action: 's3:PutObject' });
    // us-east-1 predates the log-delivery service principal: the regional ELB account writes the logs.
    expect(text(allows[0].Principal)).toContain(':iam::127311923021:root');
    expect(text(allows[0].Resource)).toContain('/alb/AWSLogs/333333333333/*');
    expect(text(policy)).not.toContain('delivery.logs.amazonaws.com');
  });

  it('gives every topic with subscribers a redrive queue, used by each subscription, with an alarm', () => {
    const queues = ofType(prod.guardrails, 'AWS::SQS::Queue').map(([id, q]) => [id, q.Properties]);
    expect(queues.map(([, q]) => q.QueueName).sort()).toEqual([
      'pipeline-guardrails-prod-critical-undelivered',
      'pipeline-guardrails-prod-warning-undelivered',
    ]);
    for (const [, q] of queues) expect(q.SqsManagedSseEnabled).toBe(true);
    const subscriptions = ofType(prod.guardrails, 'AWS::SNS::Subscription');
    expect(subscriptions.length).toBe(3);
    for (const [, s] of subscriptions) {
      expect(text(s.Properties.RedrivePolicy)).toMatch(/CriticalRedrive|WarningRedrive/);
    }
    const pagerDuty = subscriptions.find(([, s]) => s.Properties.Protocol === 'https')!;
    expect(text(pagerDuty[1].Properties.RedrivePolicy)).toContain('CriticalRedrive');
    const alarms = ofType(prod.guardrails, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const undelivered = alarms.filter((a) => /-undelivered$/.test(a.AlarmName));
    // The only alarms on undelivered alerts (one notice per failed delivery: no second one on SNS's own
    // NumberOfNotificationsFailed), both mail: a pager path that fails cannot page about itself.
    expect(undelivered.map((a) => a.AlarmName).sort()).toEqual([
      'pipeline-guardrails-prod-alerting-critical-undelivered',
      'pipeline-guardrails-prod-alerting-warning-undelivered',
    ]);
    for (const a of undelivered) {
      expect(a).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
    // Only SNS, only from its own topics, may put messages in the queues.
    const redrive = (p: Json) => /Redrive/.test(text(p.Properties.Queues));
    for (const [, p] of ofType(prod.guardrails, 'AWS::SQS::QueuePolicy').filter(([, p]) => redrive(p))) {
      for (const s of p.Properties.PolicyDocument.Statement.filter((x: Json) => x.Effect === 'Allow')) {
        expect(s.Principal).toEqual({ Service: 'sns.amazonaws.com' });
        expect(s.Condition.ArnEquals['aws:SourceArn']).toBeDefined();
      }
    }
  });

  it('creates no redrive queue for a topic without subscribers (dev)', () => {
    expect(ofType(dev.guardrails, 'AWS::SQS::Queue').filter(([id]) => /Redrive/.test(id))).toEqual([]);
  });

  it('lets no EventBridge rule use the alerting key or publish to the topics', () => {
    expect(text(prod.stateful.toJSON())).not.toContain('"events.amazonaws.com"');
    for (const [, p] of ofType(prod.guardrails, 'AWS::SNS::TopicPolicy')) {
      expect(text(p)).not.toContain('"events.amazonaws.com"');
      expect(text(p)).not.toContain(':snapshot:*');
    }
  });
});

describe.each(['dev', 'staging', 'prod'])('log groups of %s', (envName) => {
  it("are all encrypted with the environment's data key, which CloudWatch Logs of this account may use", () => {
    const result = synthEnvironment(envName);
    const groups = [
      ...ofType(result.stateful, 'AWS::Logs::LogGroup'),
      ...ofType(result.guardrails, 'AWS::Logs::LogGroup'),
    ];
    expect(groups.length).toBeGreaterThan(3);
    for (const [id, g] of groups) {
      expect({ id, key: text(g.Properties.KmsKeyId) }).toEqual({
        id,
        key: expect.stringMatching(/KeysData/),
      });
    }
    const [, dataKey] = ofType(result.stateful, 'AWS::KMS::Key').find(([id]) => id.startsWith('KeysData'))!;
    const logs = dataKey.Properties.KeyPolicy.Statement.find(
      (s: Json) => s.Sid === 'AllowCloudWatchLogsOfThisAccount',
    );
    expect(logs.Principal).toEqual({ Service: `logs.${result.config.region}.amazonaws.com` });
    expect(text(logs.Condition.ArnLike)).toContain(
      `:logs:${result.config.region}:${result.config.account}:log-group:*`,
    );
  });

  it('logs the rollout state machine at ERROR without execution data', () => {
    const result = synthEnvironment(envName);
    for (const [, sm] of ofType(result.guardrails, 'AWS::StepFunctions::StateMachine')) {
      expect(sm.Properties.LoggingConfiguration).toMatchObject({
        Level: 'ERROR',
        IncludeExecutionData: false,
      });
    }
  });
});

describe('edges: WAF and the load balancers', () => {
  it('puts a managed web ACL (common, known bad inputs, IP reputation) in front of prod by default', () => {
    const { guardrails } = synthEnvironment('prod');
    const [[aclId, acl]] = ofType(guardrails, 'AWS::WAFv2::WebACL') as [[string, Json]];
    expect(acl.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    expect(acl.Properties.Rules.map((r: Json) => r.Statement.ManagedRuleGroupStatement)).toEqual([
      { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' },
      { VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' },
      { VendorName: 'AWS', Name: 'AWSManagedRulesAmazonIpReputationList' },
    ]);
    const [[, assoc]] = ofType(guardrails, 'AWS::WAFv2::WebACLAssociation') as [[string, Json]];
    const [[lbId]] = ofType(guardrails, 'AWS::ElasticLoadBalancingV2::LoadBalancer') as [[string, Json]];
    expect(assoc.Properties).toEqual({
      ResourceArn: { Ref: lbId },
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
    });
  });

  it('associates an existing web ACL instead, when the config names one', () => {
    const raw = structuredClone(rawConfig('prod')) as Json;
    const arn =
      'arn:aws:wafv2:us-east-1:333333333333:regional/webacl/edge/0f0e0d0c-3333-4333-8333-333333333333';
    raw.routing.loadBalancer.wafWebAclArn = arn;
    const { guardrails } = synthEnvironment(validateConfig('prod', raw));
    expect(ofType(guardrails, 'AWS::WAFv2::WebACL')).toEqual([]);
    const [[, assoc]] = ofType(guardrails, 'AWS::WAFv2::WebACLAssociation') as [[string, Json]];
    expect(assoc.Properties.WebACLArn).toBe(arn);
  });

  it('keeps dev internal (inside the VPC only) and staging internal, with no web ACL', () => {
    for (const envName of ['dev', 'staging']) {
      const { guardrails } = synthEnvironment(envName);
      const [[, lb]] = ofType(guardrails, 'AWS::ElasticLoadBalancingV2::LoadBalancer') as [[string, Json]];
      expect(lb.Properties.Scheme).toBe('internal');
      expect(ofType(guardrails, 'AWS::WAFv2::WebACLAssociation')).toEqual([]);
      const ingress = ofType(guardrails, 'AWS::EC2::SecurityGroup').flatMap(
        ([, g]) => g.Properties.SecurityGroupIngress ?? [],
      );
      expect(ingress.map((i: Json) => i.CidrIp)).not.toContain('0.0.0.0/0');
    }
  });
});

describe('credentials of the checks', () => {
  const warningsOf = (result: SynthResult) =>
    Annotations.fromStack(result.stacks.guardrails)
      .findWarning('*', Match.stringLikeRegexp('checks-admin-credentials'))
      .map((w) => String(w.entry.data));

  it("warns when the checks are given the database's admin secret", () => {
    const raw = structuredClone(rawConfig('prod')) as Json;
    raw.checks.credentialsSecretArn = raw.database.credentialsSecretArn;
    expect(warningsOf(synthEnvironment(validateConfig('prod', raw)))).toEqual([
      expect.stringContaining('is the database admin secret'),
    ]);
  });

  it('does not warn with a read-only role of their own (prod as committed)', () => {
    expect(warningsOf(synthEnvironment('prod'))).toEqual([]);
  });
});
