import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ConfigError, rawConfig, validateConfig } from '../../../lib/config';
import { createStacks } from '../../../lib/create-stacks';
import { synthEnvironment } from '../../support/app';

/* eslint-disable @typescript-eslint/no-explicit-any */

function configWith(env: 'dev' | 'staging' | 'prod', mutate: (raw: any) => void) {
  const raw = structuredClone(rawConfig(env)) as any;
  mutate(raw);
  return validateConfig(env, raw);
}

type Resources = Record<string, { Type: string; Properties?: any; DeletionPolicy?: string }>;
const resourcesOf = (t: Template) => t.toJSON().Resources as Resources;
const ofType = (t: Template, type: string) =>
  Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type);

// synthEnvironment runs cdk-nag's AwsSolutions pack: a finding on any routing resource fails this file.
const prod = synthEnvironment('prod');
const dev = synthEnvironment('dev');
const staging = synthEnvironment('staging');

describe("the weights are not CloudFormation's (issue 11, item 8)", () => {
  const listener = () => {
    const [l] = ofType(prod.guardrails, 'AWS::ElasticLoadBalancingV2::Listener').filter(
      ([, r]) => r.Properties.Protocol === 'HTTPS',
    );
    return l![1].Properties;
  };

  it('the listener default action (CloudFormation-managed) forwards to blue only: the fallback', () => {
    const actions = listener().DefaultActions as {
      Type: string;
      TargetGroupArn?: any;
      ForwardConfig?: any;
    }[];
    expect(actions).toHaveLength(1);
    const [blueId] = ofType(prod.guardrails, 'AWS::ElasticLoadBalancingV2::TargetGroup').find(([id]) =>
      id.includes('Blue'),
    )!;
    expect(actions[0]!.Type).toBe('forward');
    expect(JSON.stringify(actions[0])).toContain(blueId);
    expect(JSON.stringify(actions[0])).not.toMatch(/Weight/);
  });

  it.each(['dev', 'staging', 'prod'] as const)(
    '%s: no weighted forward and no SSM-typed parameter in any template',
    (env) => {
      const e = { dev, staging, prod }[env];
      for (const t of [e.stateful, e.guardrails]) {
        const params = (t.toJSON().Parameters ?? {}) as Record<string, { Type: string }>;
        const ssmTyped = Object.values(params).filter(
          (p) =>
            p.Type.startsWith('AWS::SSM::Parameter') &&
            !String((p as any).Default).startsWith('/cdk-bootstrap/'),
        );
        expect(ssmTyped).toEqual([]);
        expect(ofType(t, 'AWS::ElasticLoadBalancingV2::ListenerRule')).toEqual([]);
        expect(ofType(t, 'Custom::RoutingWeightsParameter')).toEqual([]);
        for (const [, l] of ofType(t, 'AWS::ElasticLoadBalancingV2::Listener')) {
          expect(JSON.stringify(l.Properties.DefaultActions)).not.toMatch(/Weight/);
        }
      }
    },
  );

  it('the weighted rule is a custom resource seeded with initialWeights, behind the deploy guard', () => {
    const [ruleId, rule] = (ofType(prod.guardrails, 'Custom::WeightedForwardRule') as [string, any][])[0]!;
    expect(rule.Properties).toMatchObject({
      EnvName: 'prod',
      Priority: 1,
      InitialBlueWeight: 100,
      InitialGreenWeight: 0,
      LegacyWeightsParameterName: '/pipeline-guardrails/prod/routing/weights',
    });
    const [guardId] = ofType(prod.guardrails, 'Custom::TrafficDeployGuard')[0]!;
    const resources = resourcesOf(prod.guardrails) as Record<string, { DependsOn?: string[] }>;
    expect(resources[ruleId]!.DependsOn).toContain(guardId);
    for (const type of ['AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::TargetGroup']) {
      for (const [id] of ofType(prod.guardrails, type)) expect(resources[id]!.DependsOn).toContain(guardId);
    }
  });

  it("a redeploy with another initialWeights changes no resource but the rule's seed properties (which its Update ignores)", () => {
    const redeploy = synthEnvironment(
      configWith('prod', (c) => (c.routing.initialWeights = { blue: 50, green: 50 })),
    );
    const before = ofType(prod.guardrails, 'Custom::WeightedForwardRule')[0]![1] as any;
    const after = ofType(redeploy.guardrails, 'Custom::WeightedForwardRule')[0]![1] as any;
    expect({ ...after.Properties, InitialBlueWeight: 100, InitialGreenWeight: 0 }).toEqual(before.Properties);
    expect(listener()).toEqual(
      ofType(redeploy.guardrails, 'AWS::ElasticLoadBalancingV2::Listener').find(
        ([, r]) => r.Properties.Protocol === 'HTTPS',
      )![1].Properties,
    );
  });
});

describe('load balancer', () => {
  it('prod: internet-facing in the public subnets, deletion protection, access logs, invalid headers dropped', () => {
    const [, lb] = ofType(prod.guardrails, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
    expect(lb.Properties).toMatchObject({
      Scheme: 'internet-facing',
      Subnets: ['subnet-0a1b2c3d4e5f60034', 'subnet-0a1b2c3d4e5f60035', 'subnet-0a1b2c3d4e5f60036'],
    });
    const attributes = Object.fromEntries(
      (lb.Properties.LoadBalancerAttributes as { Key: string; Value: unknown }[]).map((a) => [
        a.Key,
        a.Value,
      ]),
    );
    expect(attributes).toMatchObject({
      'deletion_protection.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.prefix': 'alb',
      'routing.http.drop_invalid_header_fields.enabled': 'true',
    });
  });

  it('prod: HTTPS with the config certificate and a modern policy; port 80 only redirects', () => {
    prod.guardrails.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [
        {
          CertificateArn:
            'arn:aws:acm:us-east-1:333333333333:certificate/3c3c3c3c-3333-4333-8333-333333333333',
        },
      ],
      SslPolicy: Match.stringLikeRegexp('^ELBSecurityPolicy-TLS13'),
    });
    prod.guardrails.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
    expect(ofType(prod.guardrails, 'AWS::ElasticLoadBalancingV2::Listener')).toHaveLength(2);
  });

  it('staging: internal, reachable only from the configured CIDRs', () => {
    staging.guardrails.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
    const [, sg] = ofType(staging.guardrails, 'AWS::EC2::SecurityGroup').find(([id]) =>
      id.includes('LoadBalancerSecurityGroup'),
    )!;
    expect(sg.Properties.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort])).toEqual([
      ['10.0.0.0/8', 443],
      ['10.0.0.0/8', 80],
    ]);
  });

  it('dev: plain HTTP weighted listener, with a synth warning', () => {
    dev.guardrails.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    Annotations.fromStack(dev.stacks.guardrails).hasWarning(
      '/PipelineGuardrails-dev-Guardrails/Routing',
      Match.stringLikeRegexp('dev: routing.loadBalancer.allowPlainHttp is true.*no TLS'),
    );
    expect(
      Annotations.fromStack(prod.stacks.guardrails).findWarning(
        '*',
        Match.stringLikeRegexp('allowPlainHttp'),
      ),
    ).toHaveLength(0);
  });

  it('writes access logs to an SSE-S3, TLS-only, private bucket that expires them', () => {
    prod.guardrails.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })] },
      }),
    });
    prod.guardrails.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('services, target groups and security groups', () => {
  it('two IP target groups with the config health checks', () => {
    const tgs = ofType(prod.guardrails, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(tgs).toHaveLength(2);
    for (const [, tg] of tgs) {
      expect(tg.Properties).toMatchObject({
        TargetType: 'ip',
        Port: 8080,
        Protocol: 'HTTP',
        HealthCheckPath: '/healthz',
        Matcher: { HttpCode: '200-399' },
      });
    }
  });

  it('two Fargate services with circuit breaker rollback, in private subnets, no public IP', () => {
    const services = ofType(prod.guardrails, 'AWS::ECS::Service');
    expect(services.map(([, s]) => s.Properties.ServiceName).sort()).toEqual([
      'pipeline-guardrails-prod-blue',
      'pipeline-guardrails-prod-green',
    ]);
    for (const [, s] of services) {
      expect(s.Properties).toMatchObject({
        LaunchType: 'FARGATE',
        DesiredCount: 2,
        DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            AssignPublicIp: 'DISABLED',
            Subnets: ['subnet-0a1b2c3d4e5f60031', 'subnet-0a1b2c3d4e5f60032', 'subnet-0a1b2c3d4e5f60033'],
          },
        },
      });
    }
    prod.guardrails.hasResourceProperties('AWS::ECS::Cluster', {
      // Off unless cost.containerInsights (see cost-guardrails.test.ts).
      ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }],
    });
  });

  it('task definitions: config image, size, secrets from Secrets Manager, logs with retention', () => {
    prod.guardrails.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      ContainerDefinitions: [
        Match.objectLike({
          Image: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
          PortMappings: [{ ContainerPort: 8080, Protocol: 'tcp' }],
          Environment: Match.arrayWith([
            { Name: 'PIPELINE_COLOR', Value: 'green' },
            { Name: 'PIPELINE_MODE', Value: 'unified' },
          ]),
          Secrets: [
            {
              Name: 'DATABASE_CREDENTIALS',
              ValueFrom:
                'arn:aws:secretsmanager:us-east-1:333333333333:secret:nba-analytics-prod/unified-pipeline-AbCdEf',
            },
          ],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    dev.guardrails.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Image: 'public.ecr.aws/nginx/nginx:stable-alpine' })],
    });
    const retentions = ofType(prod.guardrails, 'AWS::Logs::LogGroup').map(
      ([, r]) => r.Properties.RetentionInDays,
    );
    expect(retentions.filter((d) => d === 365).length).toBeGreaterThanOrEqual(2);
  });

  it('only the load balancer reaches the services, and only on the container port', () => {
    const resources = resourcesOf(prod.guardrails);
    const albSg = Object.keys(resources).find(
      (id) => id.includes('LoadBalancerSecurityGroup') && resources[id]!.Type === 'AWS::EC2::SecurityGroup',
    )!;
    const ingress = ofType(prod.guardrails, 'AWS::EC2::SecurityGroupIngress');
    const serviceIngress = ingress.filter(([id]) => /Routing(Blue|Green)SecurityGroup/.test(id));
    expect(serviceIngress).toHaveLength(2);
    for (const [, rule] of serviceIngress) {
      expect(rule.Properties).toMatchObject({
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
        SourceSecurityGroupId: { 'Fn::GetAtt': [albSg, 'GroupId'] },
      });
    }
    for (const [, sg] of ofType(prod.guardrails, 'AWS::EC2::SecurityGroup')) {
      expect(sg.Properties.SecurityGroupIngress ?? []).not.toContainEqual(
        expect.objectContaining({ FromPort: 8080 }),
      );
    }
    // The load balancer itself may only talk to the services.
    const egress = ofType(prod.guardrails, 'AWS::EC2::SecurityGroupEgress').filter(
      ([, r]) => r.Properties.GroupId?.['Fn::GetAtt']?.[0] === albSg,
    );
    expect(egress.map(([, r]) => r.Properties.FromPort)).toEqual([8080, 8080]);
  });
});

describe('shift operator policy', () => {
  const policy = () => {
    const [, p] = ofType(prod.guardrails, 'AWS::IAM::ManagedPolicy').find(
      ([, r]) => r.Properties.ManagedPolicyName === 'pipeline-guardrails-prod-shift-operator',
    )!;
    return p!.Properties.PolicyDocument.Statement as {
      Sid: string;
      Action: string | string[];
      Resource: any;
      Condition?: Record<string, unknown>;
    }[];
  };
  const statement = (sid: string) => policy().find((s) => s.Sid === sid)!;

  it('may modify the weighted rule only (never the listener), and publish the weight in the project namespace', () => {
    expect(statement('MoveTrafficOnTheWeightedRuleOnly')).toMatchObject({
      Action: 'elasticloadbalancing:ModifyRule',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RoutingWeightedRule/), 'RuleArn'] },
    });
    const modify = policy().filter((s) =>
      [s.Action].flat().some((a) => /Modify|elasticloadbalancing:\*|ssm:PutParameter/.test(a)),
    );
    expect(modify).toHaveLength(1);
    expect(statement('PublishTheGreenWeight')).toMatchObject({
      Action: 'cloudwatch:PutMetricData',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'PipelineGuardrails' } },
    });
  });

  it('audits in the state table, announces on the warning topic, snapshots under the tool prefix', () => {
    expect(statement('AuditAndLock').Resource).toEqual({
      'Fn::ImportValue': expect.stringContaining('StateTable'),
    });
    expect(statement('AnnounceOnTheWarningTopic').Resource).toEqual({
      Ref: expect.stringMatching(/Warning/),
    });
    expect(JSON.stringify(statement('PreShiftSnapshotAsToolSnapshot').Resource)).toMatch(
      /snapshot:pipeline-guardrails-prod-pre-shift-\*/,
    );
    expect(JSON.stringify(statement('PreShiftSnapshotOfTheInstance').Resource)).toMatch(
      /db:nba-analytics-prod/,
    );
    // Tagging only the new snapshot with the tool's tags; never the instance.
    const tag = statement('PreShiftSnapshotTagOnCreate');
    expect(JSON.stringify(tag.Resource)).not.toMatch(/:db:/);
    expect(tag.Condition).toMatchObject({
      StringEquals: {
        'aws:RequestTag/managed-by': 'pipeline-guardrails',
        'aws:RequestTag/reason': ['pre-shift'],
      },
    });
  });
});

describe('service-level alarms', () => {
  const alarms = (t: Template) => ofType(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const alarm = (t: Template, name: string) => alarms(t).find((a) => a.AlarmName === name);

  it('per color: error rate, p95 latency, unhealthy hosts; total throughput in prod only', () => {
    const names = alarms(prod.guardrails)
      .map((a) => a.AlarmName as string)
      .filter((n) => n.includes('-routing-'))
      .sort();
    expect(names).toEqual([
      'pipeline-guardrails-prod-routing-blue-error-rate',
      'pipeline-guardrails-prod-routing-blue-latency-p95',
      'pipeline-guardrails-prod-routing-blue-unhealthy-hosts',
      'pipeline-guardrails-prod-routing-green-error-rate',
      'pipeline-guardrails-prod-routing-green-latency-p95',
      'pipeline-guardrails-prod-routing-green-unhealthy-hosts',
      'pipeline-guardrails-prod-routing-throughput',
    ]);
    expect(alarm(dev.guardrails, 'pipeline-guardrails-dev-routing-throughput')).toBeUndefined();
  });

  it('error rate: metric math over the color target group, above 1%, judged only over 10 requests a minute (green)', () => {
    const a = alarm(prod.guardrails, 'pipeline-guardrails-prod-routing-green-error-rate');
    expect(a).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'missing',
    });
    const expr = a.Metrics.find((m: any) => m.Expression);
    expect(expr.Expression).toBe(
      'IF(greenRequests >= 10, IF(greenRequests > 0, 100 * (FILL(green5xx, 0) + FILL(greenConnErrors, 0)) / greenRequests, 0))',
    );
    expect(
      alarm(prod.guardrails, 'pipeline-guardrails-prod-routing-blue-error-rate').Metrics.find(
        (m: any) => m.Expression,
      ).Expression,
    ).toBe('IF(blueRequests > 0, 100 * (FILL(blue5xx, 0) + FILL(blueConnErrors, 0)) / blueRequests, 0)');
    const names = a.Metrics.filter((m: any) => m.MetricStat)
      .map((m: any) => m.MetricStat.Metric.MetricName)
      .sort();
    expect(names).toEqual(['HTTPCode_Target_5XX_Count', 'RequestCount', 'TargetConnectionErrorCount']);
    for (const m of a.Metrics.filter((x: any) => x.MetricStat)) {
      expect(m.MetricStat.Metric.Dimensions.map((d: any) => d.Name).sort()).toEqual([
        'LoadBalancer',
        'TargetGroup',
      ]);
    }
    expect(a.AlarmDescription).toMatch(/Runbook: .*#routing-error-rate/);
    expect(a.AlarmDescription).toContain('roll back: npm run shift -- --env prod --rollback');
  });

  it('p95 response time above 7 s, and total throughput below 500/hour treating silence as none', () => {
    expect(alarm(prod.guardrails, 'pipeline-guardrails-prod-routing-blue-latency-p95')).toMatchObject({
      Threshold: 7,
      ExtendedStatistic: 'p95',
      MetricName: 'TargetResponseTime',
      TreatMissingData: 'notBreaching',
    });
    const t = alarm(prod.guardrails, 'pipeline-guardrails-prod-routing-throughput');
    expect(t).toMatchObject({
      Threshold: 500,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(t.Metrics.find((m: any) => m.Expression).Expression).toBe('FILL(blue, 0) + FILL(green, 0)');
    expect(t.Metrics.filter((m: any) => m.MetricStat).every((m: any) => m.MetricStat.Period === 3600)).toBe(
      true,
    );
  });

  it('a service level can point at a metric the pipeline publishes, per color', () => {
    const custom = synthEnvironment(
      configWith('prod', (c) => {
        c.routing.serviceLevels.customMetrics = {
          latency: {
            namespace: 'UnifiedPipeline',
            metricName: 'SubmissionProcessingSeconds',
            dimensions: { blue: { Pipeline: 'monolith' }, green: { Pipeline: 'unified' } },
            statistic: 'p95',
            threshold: 30,
          },
        };
      }),
    );
    expect(alarm(custom.guardrails, 'pipeline-guardrails-prod-routing-blue-latency-p95')).toMatchObject({
      Namespace: 'UnifiedPipeline',
      MetricName: 'SubmissionProcessingSeconds',
      Dimensions: [{ Name: 'Pipeline', Value: 'monolith' }],
      ExtendedStatistic: 'p95',
      Threshold: 30,
    });
    // Green's: the same metric, judged only in minutes with at least 10 green requests.
    const green = alarm(custom.guardrails, 'pipeline-guardrails-prod-routing-green-latency-p95');
    expect(green).toMatchObject({ Threshold: 30, TreatMissingData: 'missing' });
    expect(green.Metrics.find((m: any) => m.Expression).Expression).toBe(
      'IF(greenRequests >= 10, greenLatency)',
    );
    const latency = green.Metrics.find((m: any) => m.Id === 'greenLatency');
    expect(latency.MetricStat).toMatchObject({
      Metric: {
        Namespace: 'UnifiedPipeline',
        MetricName: 'SubmissionProcessingSeconds',
        Dimensions: [{ Name: 'Pipeline', Value: 'unified' }],
      },
      Stat: 'p95',
    });
  });

  it('publishes what the CLI needs, green alarm names included', () => {
    const params = ofType(prod.guardrails, 'AWS::SSM::Parameter').map(([, p]) => p.Properties);
    const byName = new Map(params.map((p) => [p.Name as string, p.Value]));
    for (const key of [
      'listener-arn',
      'blue-target-group-arn',
      'green-target-group-arn',
      'blue-service-name',
      'green-service-name',
      'cluster-name',
      'green-alarm-names',
      'bake-seconds',
      'pre-shift-snapshot',
      'shift-operator-policy-arn',
    ]) {
      expect(byName.has(`/pipeline-guardrails/prod/routing/${key}`)).toBe(true);
    }
    expect(byName.get('/pipeline-guardrails/prod/routing/green-alarm-names')).toBe(
      'pipeline-guardrails-prod-routing-green-error-rate,pipeline-guardrails-prod-routing-green-latency-p95,pipeline-guardrails-prod-routing-green-unhealthy-hosts',
    );
    expect(byName.get('/pipeline-guardrails/prod/routing/bake-seconds')).toBe('900');
  });

  it('dashboard section: blue and green side by side with threshold lines', () => {
    const section = prod.stacks.guardrails.routing!.dashboardSection;
    const [first] = section.rows;
    const json = first!.map((w) => (w as cloudwatch.GraphWidget).toJson()[0]);
    const stack = prod.stacks.guardrails;
    const rendered = JSON.stringify(stack.resolve(json));
    expect(rendered).toContain('#1f77b4');
    expect(rendered).toContain('#2ca02c');
    expect(rendered).toMatch(/"value":1,"label":"alarm > 1"/);
    expect(rendered).toMatch(/"value":7,"label":"alarm > 7"/);
  });
});

describe('synth-time refusals', () => {
  it('an internet-facing load balancer without public subnets names the environment and field', () => {
    const config = configWith('staging', (c) => {
      c.routing.loadBalancer.internetFacing = true;
    });
    expect(() => createStacks(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config)).toThrow(
      ConfigError,
    );
    expect(() => createStacks(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config)).toThrow(
      /environment "staging"[\s\S]*routing\.loadBalancer\.internetFacing: got true, expected false when the network has no public subnets/,
    );
    // Twin: with public subnets it synthesizes.
    const fixed = configWith('staging', (c) => {
      c.routing.loadBalancer.internetFacing = true;
      c.network.publicSubnetIds = ['subnet-0a1b2c3d4e5f60024', 'subnet-0a1b2c3d4e5f60025'];
    });
    expect(() => createStacks(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), fixed)).not.toThrow();
  });

  it('a certificate from another region', () => {
    const config = configWith('prod', (c) => {
      c.routing.loadBalancer.certificateArn =
        'arn:aws:acm:eu-west-1:333333333333:certificate/3c3c3c3c-3333-4333-8333-333333333333';
    });
    expect(() => createStacks(new App(), config)).toThrow(
      /routing\.loadBalancer\.certificateArn: got ".*eu-west-1.*", expected a certificate in the load balancer's region \(us-east-1\)/,
    );
  });

  it('deletion protection switched off in prod', () => {
    const config = configWith('prod', (c) => (c.routing.loadBalancer.deletionProtection = false));
    expect(() => createStacks(new App(), config)).toThrow(
      /routing\.loadBalancer\.deletionProtection: got false, expected true in prod/,
    );
    const staged = configWith('staging', (c) => (c.routing.loadBalancer.deletionProtection = false));
    expect(() => createStacks(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), staged)).not.toThrow();
  });

  it('routing disabled: no load balancer, no services, no weights parameters', () => {
    const off = synthEnvironment(configWith('dev', (c) => (c.routing.enabled = false)));
    off.guardrails.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    off.guardrails.resourceCountIs('AWS::ECS::Service', 0);
    expect(ofType(off.guardrails, 'Custom::WeightedForwardRule')).toHaveLength(0);
    expect(off.stacks.guardrails.routing).toBeUndefined();
  });
});
