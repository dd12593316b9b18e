import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { ServiceHealthConfig } from '../config/sections/alerting';
import type { Color } from '../../lambda/shared/traffic';
import type { AlarmFactory, SeverityThresholds } from './alarm-factory';
import { thresholdLines, type DashboardSection } from './dashboard-section';

/** What the alarms need of one color: its service, target group and desired task count. */
export interface ServiceHealthColor {
  readonly color: Color;
  readonly service: ecs.FargateService;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly desiredCount: number;
}

export interface ServiceHealthAlarmsProps {
  readonly envName: string;
  /** `alerting.serviceHealth` of the environment. */
  readonly config: ServiceHealthConfig;
  readonly alarms: AlarmFactory;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly colors: readonly ServiceHealthColor[];
  /** The HTTPS listener's ACM certificate; no expiry alarm without one. */
  readonly certificateArn?: string;
}

/**
 * The health of the blue and green services and their load balancer, next to the per-color service levels
 * (error rate, latency: WeightedRouting's alarms):
 * - healthy tasks below desired per color (warning) and none at all (critical: a color without a single healthy
 *   task is down, even at weight 0, where nothing else would notice), from the target group's HealthyHostCount,
 *   so it needs no Container Insights;
 * - ECS CPU and memory per service (warning);
 * - the load balancer's own 5xx as a percentage of its requests and RejectedConnectionCount (warning; a color
 *   with no healthy target pages through the healthy-tasks alarm);
 * - the listener certificate's DaysToExpiry (ACM renews the certificates it issued; imported ones expire).
 * Missing data: no datapoint is no traffic or no task to judge (not breaching); the healthy-hosts alarms treat it
 * as breaching, since a target group without targets reports nothing.
 */
export class ServiceHealthAlarms extends Construct {
  readonly alarmList: cloudwatch.Alarm[] = [];
  readonly dashboardSection: DashboardSection;

  constructor(scope: Construct, id: string, props: ServiceHealthAlarmsProps) {
    super(scope, id);
    const cfg = props.config;
    const period = Duration.minutes(cfg.periodMinutes);
    const sustained = `${cfg.evaluationPeriods} ${cfg.periodMinutes}-minute periods`;
    const windowed = { evaluationPeriods: cfg.evaluationPeriods, datapointsToAlarm: cfg.evaluationPeriods };
    const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;
    const rows: cloudwatch.IWidget[][] = [];
    const keep = (made: { warning?: cloudwatch.Alarm; critical?: cloudwatch.Alarm }) => {
      for (const a of [made.warning, made.critical]) if (a) this.alarmList.push(a);
    };
    const graph = (
      title: string,
      metrics: cloudwatch.IMetric[],
      thresholds: SeverityThresholds,
      worseWhen: 'higher' | 'lower',
      unit = '',
      max?: number,
    ) =>
      new cloudwatch.GraphWidget({
        title,
        left: metrics,
        leftAnnotations: thresholdLines(thresholds, worseWhen, unit),
        leftYAxis: { min: 0, ...(max === undefined ? {} : { max }), showUnits: false },
        width: 8,
        height: 6,
      });

    const healthyGraphs: cloudwatch.IMetric[] = [];
    const cpuGraphs: cloudwatch.IMetric[] = [];
    const memoryGraphs: cloudwatch.IMetric[] = [];
    for (const c of props.colors) {
      const C = c.color === 'blue' ? 'Blue' : 'Green';
      // From dimensions, not `targetGroup.metrics`: green's group is attached by the weighted rule (a custom
      // resource), which CDK does not see as an attachment.
      const healthy = new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName: 'HealthyHostCount',
        statistic: 'Minimum',
        period,
        dimensionsMap: {
          TargetGroup: c.targetGroup.targetGroupFullName,
          LoadBalancer: props.loadBalancer.loadBalancerFullName,
        },
      });
      healthyGraphs.push(healthy.with({ label: `${c.color} healthy tasks (desired ${c.desiredCount})` }));
      keep(
        props.alarms.createSeverityAlarms(this, `${C}HealthyTasks`, {
          area: 'service',
          what: `${c.color}-healthy-tasks`,
          metric: healthy,
          thresholds: {
            warning: c.desiredCount > 1 ? c.desiredCount : undefined,
            critical: 1,
          },
          comparisonOperator: LT,
          ...windowed,
          // A target group with no registered target publishes nothing: that is "no healthy task".
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
          meaning: (severity, t) =>
            severity === 'critical'
              ? `The ${c.color} service has no healthy task behind the load balancer for ${sustained}: ${c.color} is down (at any weight).`
              : `The ${c.color} service has fewer than ${t} healthy tasks (its desiredCount) for ${sustained}: less capacity, one failure from down.`,
          firstCheck: `aws ecs describe-services --cluster CLUSTER --services ${c.service.serviceName}: events and stopped tasks' reasons.`,
          runbookAnchor: 'service-healthy-tasks',
        }),
      );
      const cpu = c.service.metricCpuUtilization({ period, statistic: 'Average' });
      const memory = c.service.metricMemoryUtilization({ period, statistic: 'Average' });
      cpuGraphs.push(cpu.with({ label: `${c.color} CPU %` }));
      memoryGraphs.push(memory.with({ label: `${c.color} memory %` }));
      keep(
        props.alarms.createSeverityAlarms(this, `${C}Cpu`, {
          area: 'service',
          what: `${c.color}-cpu`,
          metric: cpu,
          thresholds: cfg.taskCpuPercent,
          comparisonOperator: GT,
          ...windowed,
          treatMissingData: notBreaching,
          meaning: (_s, t) =>
            `The ${c.color} service uses more than ${t}% of its CPU for ${sustained}: requests queue and latency grows.`,
          firstCheck: `The ${c.color} latency graph on the dashboard; scale routing.${c.color}.desiredCount or cpu.`,
          runbookAnchor: 'service-cpu-memory',
        }),
      );
      keep(
        props.alarms.createSeverityAlarms(this, `${C}Memory`, {
          area: 'service',
          what: `${c.color}-memory`,
          metric: memory,
          thresholds: cfg.taskMemoryPercent,
          comparisonOperator: GT,
          ...windowed,
          treatMissingData: notBreaching,
          meaning: (_s, t) =>
            `The ${c.color} service uses more than ${t}% of its memory for ${sustained}: tasks are close to being killed (OutOfMemory).`,
          firstCheck: `Stopped ${c.color} tasks with reason OutOfMemoryError; raise routing.${c.color}.memory.`,
          runbookAnchor: 'service-cpu-memory',
        }),
      );
    }

    const lbMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName,
        dimensionsMap: { LoadBalancer: props.loadBalancer.loadBalancerFullName },
        statistic: 'Sum',
        period,
      });
    const elb5xx = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * FILL(elb5xx, 0) / requests, 0)',
      usingMetrics: { requests: lbMetric('RequestCount'), elb5xx: lbMetric('HTTPCode_ELB_5XX_Count') },
      period,
      label: 'load balancer 5xx (% of requests)',
    });
    keep(
      props.alarms.createSeverityAlarms(this, 'LoadBalancer5xx', {
        area: 'service',
        what: 'load-balancer-5xx',
        metric: elb5xx,
        thresholds: cfg.loadBalancer5xxPercent,
        comparisonOperator: GT,
        ...windowed,
        treatMissingData: notBreaching,
        meaning: (_s, t) =>
          `The load balancer itself answered more than ${t}% of requests with 5xx for ${sustained} (no healthy target, target timeouts or resets), errors no color's rate counts.`,
        firstCheck:
          'Healthy tasks per color on the dashboard; the access logs (elb_status_code 502/503/504).',
        runbookAnchor: 'service-load-balancer-errors',
      }),
    );
    const rejected = lbMetric('RejectedConnectionCount');
    keep(
      props.alarms.createSeverityAlarms(this, 'RejectedConnections', {
        area: 'service',
        what: 'rejected-connections',
        metric: rejected,
        thresholds: cfg.rejectedConnections,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ...windowed,
        treatMissingData: notBreaching,
        meaning: (_s, t) =>
          `The load balancer rejected at least ${t} connections per period for ${sustained}: it reached its maximum connections.`,
        firstCheck:
          'Active connections and new connections on the load balancer; a client opening connections in a loop?',
        runbookAnchor: 'service-load-balancer-errors',
      }),
    );
    rows.push([
      graph('Healthy tasks per color', healthyGraphs, { critical: 1 }, 'lower'),
      graph('Service CPU (%)', cpuGraphs, cfg.taskCpuPercent, 'higher', '%', 100),
      graph('Service memory (%)', memoryGraphs, cfg.taskMemoryPercent, 'higher', '%', 100),
    ]);
    const lbRow: cloudwatch.IWidget[] = [
      graph('Load balancer 5xx (% of requests)', [elb5xx], cfg.loadBalancer5xxPercent, 'higher', '%'),
      graph(
        'Rejected connections',
        [rejected.with({ label: 'rejected' })],
        cfg.rejectedConnections,
        'higher',
      ),
    ];

    if (props.certificateArn) {
      const days = new cloudwatch.Metric({
        namespace: 'AWS/CertificateManager',
        metricName: 'DaysToExpiry',
        dimensionsMap: { CertificateArn: props.certificateArn },
        statistic: 'Minimum',
        period: Duration.days(1),
      });
      keep(
        props.alarms.createSeverityAlarms(this, 'CertificateExpiry', {
          area: 'service',
          what: 'certificate-expiry',
          metric: days,
          thresholds: cfg.certificateDaysToExpiry,
          comparisonOperator: LT,
          evaluationPeriods: 1,
          // ACM publishes once a day; a day without a datapoint changes nothing.
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
          meaning: (_s, t) =>
            `The load balancer's certificate expires in fewer than ${t} days: after that HTTPS clients are refused.`,
          firstCheck: `aws acm describe-certificate --certificate-arn ${props.certificateArn} --query 'Certificate.[Type,RenewalEligibility,NotAfter]'`,
          runbookAnchor: 'service-certificate-expiry',
        }),
      );
      lbRow.push(
        graph(
          'Certificate: days to expiry',
          [days.with({ label: 'days' })],
          cfg.certificateDaysToExpiry,
          'lower',
        ),
      );
    }
    rows.push(lbRow);
    this.dashboardSection = {
      title: 'Services and load balancer',
      description: `Healthy tasks against desired, CPU and memory per color, and what the load balancer itself refuses (${props.envName}).`,
      rows,
    };
  }
}
