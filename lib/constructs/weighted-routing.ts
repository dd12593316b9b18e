import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ConfigError, type RoutingConfig } from '../config';
import { alarmNamePrefix, DEPLOYMENT_KEYS, METRIC_NAMESPACE, PROJECT, resourcePrefix } from '../project';
import type { Color } from '../../lambda/shared/traffic';
import { accept } from '../nag/acknowledge';
import { logAlbAccessLogs } from './access-logs';
import type { AlarmFactory } from './alarm-factory';
import type { DashboardSection } from './dashboard-section';
import { publishDeploymentParameter } from './deployment-parameter';
import type { Network } from './network';
import { createToolSnapshotStatements } from './snapshot-iam';
import {
  routingServiceLevelAlarms,
  type ColorMetrics,
  type ServiceLevelAlarms,
} from './weighted-routing-alarms';
import { routingDashboardSection } from './weighted-routing-dashboard';
import { containerImage, containerSecrets } from './weighted-routing-image';
import { LoadBalancerWebAcl, webAclChoice } from './web-acl';
import { WeightedForwardRule } from './weighted-rule';

export interface WeightedRoutingProps {
  readonly envName: string;
  /** The environment's `routing` config (must be enabled). */
  readonly config: RoutingConfig;
  readonly network: Network;
  readonly alarms: AlarmFactory;
  /** Where the shift command announces every change of traffic. */
  readonly warningTopic: sns.ITopic;
  /** Key of the alert topics (the shift operator encrypts its announcements with it). */
  readonly alertingKey: kms.IKey;
  /** Container Insights on the cluster (`cost.containerInsights`, about $15 a month). @default false */
  readonly containerInsights?: boolean;
  /** The state table (shift audit and lock, checks summary) and its key. */
  readonly stateTable: dynamodb.ITable;
  readonly dataKey: kms.IKey;
  /** RDS instance the pre-shift snapshot is taken of. */
  readonly databaseInstanceIdentifier: string;
  /** Retention of the services' logs. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the services' log groups. (The access-log bucket is always retained: CloudFormation cannot delete a bucket with objects in it.) */
  readonly removalPolicy: RemovalPolicy;
}

export interface ColorService {
  readonly color: Color;
  readonly service: ecs.FargateService;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
}

/**
 * Weighted blue-green routing for one environment: an Application Load Balancer whose one listener
 * forwards by weight to two target groups, each fed by an ECS Fargate service (blue: the old monolith
 * pipeline, green: the unified pipeline), with service-level alarms per color and the shift operator's
 * managed policy.
 *
 * CloudFormation never owns the weights: the listener's default action (CloudFormation's) forwards to
 * blue only, as the fallback; the weighted forward is a listener rule created once by a custom resource
 * (`WeightedForwardRule`) and changed only by the traffic writers. A deploy guard that the routing
 * resources depend on fails the deploy while a shift or plan holds the traffic lease.
 */
export class WeightedRouting extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that forwards by weight (HTTPS, or HTTP where the config allows plain HTTP). */
  readonly listener: elbv2.ApplicationListener;
  readonly cluster: ecs.Cluster;
  readonly blue: ColorService;
  readonly green: ColorService;
  readonly accessLogBucket: s3.Bucket;
  /** AWS WAF in front of the load balancer (managed or existing ACL); absent when the config says none. */
  readonly webAcl?: LoadBalancerWebAcl;
  /** The weighted forward rule (the live weights) and the deploy guard. */
  readonly weightedRule: WeightedForwardRule;
  readonly serviceLevelAlarms: ServiceLevelAlarms;
  /** Names of green's alarms: the shift's bake and the rollout watch these. */
  readonly greenAlarmNames: readonly string[];
  readonly blueAlarmNames: readonly string[];
  /** `pipeline-guardrails-<env>-shift-operator`: attach it to whoever runs `shift`. */
  readonly shiftOperatorPolicy: iam.ManagedPolicy;
  readonly dashboardSection: DashboardSection;

  constructor(scope: Construct, id: string, props: WeightedRoutingProps) {
    super(scope, id);
    const { config: cfg, envName, network } = props;
    const prefix = resourcePrefix(envName);
    const stack = Stack.of(this);
    checkProps(props);

    // --- Load balancer, its security group and access logs. ---
    const lb = cfg.loadBalancer;
    const https = lb.certificateArn !== undefined;
    const listenerPort = https ? 443 : 80;
    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: network.vpc,
      allowAllOutbound: false,
      description: `${prefix} load balancer: clients in, the blue and green services out`,
    });
    const cidrs = lb.ingressCidrs ?? (lb.internetFacing ? ['0.0.0.0/0'] : []);
    for (const cidr of cidrs) {
      albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(listenerPort), `clients (${cidr})`);
      if (https) {
        albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(80), `HTTP redirect (${cidr})`);
      }
    }
    if (cidrs.includes('0.0.0.0/0')) {
      Validations.of(albSecurityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'Internet-facing load balancer by config: clients anywhere reach the listener ports only.',
      });
    }

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only (not SSE-KMS).
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ expiration: Duration.days(lb.accessLogRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    accept.accessLogBucket(
      this.accessLogBucket,
      'Receives the load balancer access logs only: ALB log delivery supports SSE-S3, not SSE-KMS; objects expire by lifecycle, so versioning, replication and access logging of this log sink would only log the logs.',
    );
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket only receives the load balancer access logs; logging its own accesses to a further bucket would add a bucket per environment for no reader. Writes are by the ELB log-delivery principal only (bucket policy).',
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      internetFacing: lb.internetFacing,
      vpcSubnets: lb.internetFacing ? network.publicSubnets : network.privateSubnets,
      securityGroup: albSecurityGroup,
      deletionProtection: lb.deletionProtection ?? envName === 'prod',
      idleTimeout: Duration.seconds(lb.idleTimeoutSeconds),
      dropInvalidHeaderFields: true,
    });
    logAlbAccessLogs(this.loadBalancer, this.accessLogBucket, 'alb');
    if (!(lb.deletionProtection ?? envName === 'prod')) {
      accept.sandboxLoadBalancer(
        this.loadBalancer,
        `${envName}: deletion protection off by config so the environment can be torn down; prod requires it (validated).`,
      );
    }
    this.webAcl = this.protectWithWaf(props);

    // --- Cluster and the two services. ---
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      clusterName: `${prefix}-routing`,
      containerInsightsV2: props.containerInsights
        ? ecs.ContainerInsights.ENABLED
        : ecs.ContainerInsights.DISABLED,
    });
    if (!props.containerInsights) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-ECS4',
        reason:
          "Container Insights is off by config (cost.containerInsights, about $15 a month): the service alarms use the free AWS/ECS CPU and memory and the target groups' healthy hosts.",
      });
    }
    this.blue = this.colorService('blue', props, albSecurityGroup);
    this.green = this.colorService('green', props, albSecurityGroup);

    // --- The listener: CloudFormation's default action is the blue-only fallback. ---
    const weightedForward = elbv2.ListenerAction.forward([this.blue.targetGroup]);
    if (https) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(lb.certificateArn as string)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultAction: weightedForward,
      });
      const redirect = this.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
      accept.redirectOnlyListener(
        redirect,
        'Port 80 only answers with a permanent redirect to HTTPS on 443; no request is served over HTTP, so there is no certificate to attach.',
      );
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: weightedForward,
      });
      accept.internalPlainHttpListener(
        this.listener,
        `${envName}: routing.loadBalancer.allowPlainHttp on an internal load balancer (config refuses it on an internet-facing one), reached from ${(lb.ingressCidrs ?? []).join(', ')} only; warned at synth.`,
      );
      Annotations.of(this).addWarningV2(
        'pipeline-guardrails:routing-plain-http',
        `${envName}: routing.loadBalancer.allowPlainHttp is true, so the load balancer serves plain HTTP on port 80 with no TLS. Give routing.loadBalancer.certificateArn before real traffic.`,
      );
    }

    // --- The weighted forward (the live weights) and the deploy guard, outside CloudFormation's reach. ---
    this.weightedRule = new WeightedForwardRule(this, 'WeightedRule', {
      envName,
      listener: this.listener,
      loadBalancer: this.loadBalancer,
      blueTargetGroup: this.blue.targetGroup,
      greenTargetGroup: this.green.targetGroup,
      initialWeights: cfg.initialWeights,
      stateTable: props.stateTable,
      guardFingerprint: [
        JSON.stringify(cfg),
        ...[this.blue, this.green].map((c) => c.service.taskDefinition.taskDefinitionArn),
      ],
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
    });
    this.weightedRule.guardResources(
      this.blue.service,
      this.green.service,
      this.blue.targetGroup,
      this.green.targetGroup,
    );
    // ECS registers green's tasks only once its target group is attached: by the weighted rule.
    this.green.service.node.addDependency(this.weightedRule.rule);

    // --- Service-level alarms and the dashboard. ---
    // Built from dimensions, not `targetGroup.metrics`: green's group is attached to the load balancer by
    // the weighted rule (a custom resource), which CDK does not see as an attachment.
    const tgMetric = (c: ColorService, metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName,
        statistic,
        period: Duration.minutes(1),
        dimensionsMap: {
          TargetGroup: c.targetGroup.targetGroupFullName,
          LoadBalancer: this.loadBalancer.loadBalancerFullName,
        },
      });
    const metrics = (c: ColorService): ColorMetrics => ({
      requests: tgMetric(c, 'RequestCount', 'Sum'),
      target5xx: tgMetric(c, 'HTTPCode_Target_5XX_Count', 'Sum'),
      connectionErrors: tgMetric(c, 'TargetConnectionErrorCount', 'Sum'),
      responseTime: tgMetric(c, 'TargetResponseTime', 'p95'),
      healthyHosts: tgMetric(c, 'HealthyHostCount', 'Minimum'),
      unhealthyHosts: tgMetric(c, 'UnHealthyHostCount', 'Maximum'),
    });
    this.serviceLevelAlarms = routingServiceLevelAlarms(this, {
      envName,
      alarms: props.alarms,
      serviceLevels: cfg.serviceLevels,
      metrics: { blue: metrics(this.blue), green: metrics(this.green) },
    });
    this.greenAlarmNames = this.serviceLevelAlarms.green.map((a) => a.alarmName);
    this.blueAlarmNames = this.serviceLevelAlarms.blue.map((a) => a.alarmName);
    this.dashboardSection = routingDashboardSection({
      envName,
      serviceLevels: cfg.serviceLevels,
      slo: this.serviceLevelAlarms,
    });

    // --- The shift operator's policy, scoped to this listener and its parameters. ---
    this.shiftOperatorPolicy = this.createShiftOperatorPolicy(props, prefix, stack);

    // --- What the CLIs read (cli/deployed.ts). ---
    const publish = (pid: string, key: string, value: string, description: string) =>
      publishDeploymentParameter(this, pid, envName, `routing/${key}`, value, description);
    const key = (k: string) => k.replace(/^routing\//, '');
    publish('ListenerArnParameter', key(DEPLOYMENT_KEYS.listenerArn), this.listener.listenerArn, 'Listener');
    publish(
      'WeightedRuleArnParameter',
      key(DEPLOYMENT_KEYS.weightedRuleArn),
      this.weightedRule.ruleArn,
      'Weighted forward rule (the live weights)',
    );
    publish(
      'LoadBalancerDnsParameter',
      'load-balancer-dns-name',
      this.loadBalancer.loadBalancerDnsName,
      'Load balancer DNS name',
    );
    for (const c of [this.blue, this.green]) {
      const C = c.color === 'blue' ? 'Blue' : 'Green';
      publish(
        `${C}TargetGroupParameter`,
        `${c.color}-target-group-arn`,
        c.targetGroup.targetGroupArn,
        `${c.color} target group`,
      );
      publish(
        `${C}ServiceParameter`,
        `${c.color}-service-name`,
        c.service.serviceName,
        `${c.color} ECS service`,
      );
      publish(
        `${C}LogGroupParameter`,
        `${c.color}-log-group-name`,
        c.logGroup.logGroupName,
        `${c.color} container logs`,
      );
    }
    publish('ClusterParameter', 'cluster-name', this.cluster.clusterName, 'ECS cluster of both colors');
    publish(
      'GreenAlarmsParameter',
      'green-alarm-names',
      this.greenAlarmNames.join(','),
      "Green's service-level alarms (watched during a bake)",
    );
    publish(
      'BlueAlarmsParameter',
      'blue-alarm-names',
      this.blueAlarmNames.join(','),
      "Blue's service-level alarms",
    );
    publish('BakeParameter', 'bake-seconds', String(cfg.bakeSeconds), 'Default bake time of a shift');
    publish(
      'SnapshotPolicyParameter',
      'pre-shift-snapshot',
      cfg.preShiftSnapshot,
      'When a shift snapshots first',
    );
    publish(
      'SnapshotTimeoutParameter',
      'snapshot-timeout-minutes',
      String(cfg.snapshotTimeoutMinutes),
      'How long a shift waits for its snapshot',
    );
    publish(
      'ShiftOperatorPolicyParameter',
      'shift-operator-policy-arn',
      this.shiftOperatorPolicy.managedPolicyArn,
      'Managed policy to attach to shift operators',
    );
  }

  private protectWithWaf(props: WeightedRoutingProps): LoadBalancerWebAcl | undefined {
    const { envName } = props;
    const lb = props.config.loadBalancer;
    const choice = webAclChoice(envName, lb);
    if (choice.kind !== 'none') {
      return new LoadBalancerWebAcl(this, 'Waf', {
        loadBalancer: this.loadBalancer,
        choice,
        namePrefix: resourcePrefix(envName),
        logRetention: props.logRetention,
        logRemovalPolicy: props.removalPolicy,
      });
    }
    if (lb.internetFacing) {
      Annotations.of(this).addWarningV2(
        'pipeline-guardrails:routing-no-waf',
        `${envName}: the internet-facing load balancer has no AWS WAF web ACL (routing.loadBalancer.waf is "none"); set waf: "managed" or wafWebAclArn before real traffic.`,
      );
    }
    accept.loadBalancerWithoutWaf(
      this.loadBalancer,
      lb.internetFacing
        ? `${envName}: no web ACL by config (routing.loadBalancer.waf: "none"), warned at synth.`
        : `${envName}: internal load balancer, reached only from ${(lb.ingressCidrs ?? []).join(', ')}; WAF is for internet-facing ones (set waf: "managed" to add one anyway).`,
    );
    return undefined;
  }

  private colorService(
    color: Color,
    props: WeightedRoutingProps,
    albSecurityGroup: ec2.SecurityGroup,
  ): ColorService {
    const cfg = props.config[color];
    const C = color === 'blue' ? 'Blue' : 'Green';
    const prefix = resourcePrefix(props.envName);
    const logGroup = new logs.LogGroup(this, `${C}Logs`, {
      retention: (props.config.logRetentionDays as logs.RetentionDays | undefined) ?? props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, `${C}Task`, {
      cpu: cfg.cpu,
      memoryLimitMiB: cfg.memory,
      family: `${prefix}-${color}`,
    });
    taskDefinition.addContainer('app', {
      image: containerImage(this, `${C}Image`, cfg.image),
      essential: true,
      portMappings: [{ containerPort: cfg.containerPort, protocol: ecs.Protocol.TCP }],
      environment: { PIPELINE_COLOR: color, ...cfg.environment },
      secrets: containerSecrets(this, `${C}Secret`, cfg.secrets),
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: color }),
      readonlyRootFilesystem: false,
    });
    if (taskDefinition.executionRole) {
      Validations.of(taskDefinition.executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken has no resource-level permissions; image pulls are granted on the one repository.',
      });
    }
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'Only non-secret settings (PIPELINE_COLOR and the config environment) are plain environment variables; credentials come from Secrets Manager through `secrets`.',
    });
    const securityGroup = new ec2.SecurityGroup(this, `${C}SecurityGroup`, {
      vpc: props.network.vpc,
      allowAllOutbound: true,
      description: `${prefix} ${color} service: reachable from the load balancer only`,
    });
    const service = new ecs.FargateService(this, `${C}Service`, {
      cluster: this.cluster,
      serviceName: `${prefix}-${color}`,
      taskDefinition,
      desiredCount: cfg.desiredCount,
      vpcSubnets: props.network.privateSubnets,
      securityGroups: [securityGroup],
      assignPublicIp: false,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    securityGroup.connections.allowFrom(
      albSecurityGroup,
      ec2.Port.tcp(cfg.containerPort),
      `${color} container port from the load balancer`,
    );
    const targetGroup = new elbv2.ApplicationTargetGroup(this, `${C}TargetGroup`, {
      vpc: props.network.vpc,
      port: cfg.containerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: cfg.healthCheckPath,
        healthyHttpCodes: '200-399',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      targets: [service.loadBalancerTarget({ containerName: 'app', containerPort: cfg.containerPort })],
    });
    return { color, service, targetGroup, securityGroup, logGroup };
  }

  private createShiftOperatorPolicy(
    props: WeightedRoutingProps,
    prefix: string,
    stack: Stack,
  ): iam.ManagedPolicy {
    const colonArn = (service: string, resource: string, resourceName: string) =>
      stack.formatArn({ service, resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const alarmsArn = colonArn('cloudwatch', 'alarm', `${alarmNamePrefix(props.envName)}*`);
    const dbArn = colonArn('rds', 'db', props.databaseInstanceIdentifier);
    const snapshotsArn = colonArn('rds', 'snapshot', `${prefix}-pre-shift-*`);
    const paramsArn = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${PROJECT}/${props.envName}/*`,
    });
    const statements = [
      new iam.PolicyStatement({
        sid: 'MoveTrafficOnTheWeightedRuleOnly',
        actions: ['elasticloadbalancing:ModifyRule'],
        resources: [this.weightedRule.ruleArn],
      }),
      new iam.PolicyStatement({
        sid: 'PublishTheGreenWeight',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadTheDeployment',
        actions: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameters'],
        resources: [paramsArn],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeLoadBalancing',
        actions: [
          'elasticloadbalancing:DescribeListeners',
          'elasticloadbalancing:DescribeRules',
          'elasticloadbalancing:DescribeTargetHealth',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeLoadBalancers',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'AuditAndLock',
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [props.stateTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'StateTableKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [props.dataKey.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'AnnounceOnTheWarningTopic',
        actions: ['sns:Publish'],
        resources: [props.warningTopic.topicArn],
      }),
      new iam.PolicyStatement({
        sid: 'AlertingKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.alertingKey.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadThisEnvironmentsAlarms',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: [alarmsArn],
      }),
      // The pre-shift snapshot only: exactly the tool's tags with reason pre-shift, no tags on the instance.
      ...createToolSnapshotStatements('PreShiftSnapshot', dbArn, [snapshotsArn], {
        envName: props.envName,
        reasons: ['pre-shift'],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeSnapshots',
        actions: ['rds:DescribeDBSnapshots', 'rds:DescribeDBInstances'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeServices',
        actions: ['ecs:DescribeServices'],
        resources: [this.blue.service.serviceArn, this.green.service.serviceArn],
      }),
    ];
    const policy = new iam.ManagedPolicy(this, 'ShiftOperatorPolicy', {
      managedPolicyName: `${prefix}-shift-operator`,
      description: `Run \`pipeline-guardrails shift --env ${props.envName}\`: this listener, its weights parameters, the shift audit, the warning topic, the pre-shift snapshot.`,
      statements,
    });
    Validations.of(policy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'elasticloadbalancing:Describe*, rds:DescribeDBSnapshots/DescribeDBInstances have no resource-level permissions; they are read-only. cloudwatch:PutMetricData has none either: it is limited to the project namespace by condition.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:${stack.region}:${stack.account}:alarm:${prefix}-*]`,
        reason:
          "Read-only DescribeAlarms on this environment's alarms (name prefix) for the preflight and the bake.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:${stack.region}:${stack.account}:snapshot:${prefix}-pre-shift-*]`,
        reason:
          "The pre-shift snapshot gets a new timestamped identifier each time, always under this prefix; creating and tagging it need exactly the tool's tags (reason pre-shift).",
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${stack.region}:${stack.account}:parameter/pipeline-guardrails/${props.envName}/*]`,
        reason: "Read-only: the CLI reads this environment's deployment parameters by path.",
      },
    );
    return policy;
  }
}

/** Cross-section rules the schema cannot see (network x routing, region x certificate, env x protection). */
function checkProps(props: WeightedRoutingProps): void {
  const { config: cfg, envName, network } = props;
  const problems: string[] = [];
  if (!cfg.enabled) {
    problems.push('routing.enabled: got false, expected true where WeightedRouting is created');
  }
  if (cfg.loadBalancer.internetFacing && !network.hasPublicSubnets) {
    problems.push(
      'routing.loadBalancer.internetFacing: got true, expected false when the network has no public subnets (give network.publicSubnetIds, one per availability zone, for an internet-facing load balancer)',
    );
  }
  const region = Stack.of(network).region;
  const certRegion = cfg.loadBalancer.certificateArn?.split(':')[3];
  if (certRegion !== undefined && !Token.isUnresolved(region) && certRegion !== region) {
    problems.push(
      `routing.loadBalancer.certificateArn: got ${JSON.stringify(cfg.loadBalancer.certificateArn)}, expected a certificate in the load balancer's region (${region})`,
    );
  }
  if (envName === 'prod' && cfg.loadBalancer.deletionProtection === false) {
    problems.push('routing.loadBalancer.deletionProtection: got false, expected true in prod');
  }
  if (problems.length > 0) throw new ConfigError(envName, problems);
}
