import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { RoutingConfig } from '../config';
import type { CustomMetricConfig } from '../config/sections/routing';
import type { Color } from '../../lambda/shared/traffic';
import { GREEN_ALARM_WINDOW } from '../../lambda/rollout/plan';
import type { AlarmFactory } from './alarm-factory';

/** The load balancer's per-target-group metrics of one color (1-minute periods). */
export interface ColorMetrics {
  readonly requests: cloudwatch.Metric;
  readonly target5xx: cloudwatch.Metric;
  readonly connectionErrors: cloudwatch.Metric;
  readonly responseTime: cloudwatch.Metric;
  readonly healthyHosts: cloudwatch.Metric;
  readonly unhealthyHosts: cloudwatch.Metric;
}

export type ServiceLevelKind = 'error-rate' | 'latency-p95' | 'unhealthy-hosts' | 'throughput';

export interface ServiceLevelAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly alarmName: string;
  readonly kind: ServiceLevelKind;
  /** Absent for the throughput alarm (both colors together). */
  readonly color?: Color;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
}

export interface ServiceLevelAlarms {
  readonly blue: readonly ServiceLevelAlarm[];
  readonly green: readonly ServiceLevelAlarm[];
  readonly throughput?: ServiceLevelAlarm;
  /** What each color's panels plot (the alarms' metrics, plus the raw series). */
  readonly series: Readonly<
    Record<
      Color,
      {
        readonly errorRate: cloudwatch.IMetric;
        readonly latency: cloudwatch.IMetric;
        readonly requests: cloudwatch.IMetric;
        readonly healthyHosts: cloudwatch.IMetric;
        readonly unhealthyHosts: cloudwatch.IMetric;
      }
    >
  >;
  readonly thresholds: { readonly errorRate: number; readonly latency: number; readonly throughput?: number };
}

export interface RoutingServiceLevelAlarmsProps {
  /** Environment name, for the exact commands in the alarm descriptions. */
  readonly envName: string;
  readonly alarms: AlarmFactory;
  readonly serviceLevels: RoutingConfig['serviceLevels'];
  readonly metrics: Readonly<Record<Color, ColorMetrics>>;
}

const MINUTE = Duration.minutes(1);

function customMetric(c: CustomMetricConfig, color: Color, defaultStatistic: string, period: Duration) {
  return new cloudwatch.Metric({
    namespace: c.namespace,
    metricName: c.metricName,
    dimensionsMap: c.dimensions[color],
    statistic: c.statistic ?? defaultStatistic,
    period,
  });
}

/** A label for graphs only: an alarm on a labelled metric renders as metric math, harder to read. */
function labelled(metric: cloudwatch.IMetric, label: string): cloudwatch.IMetric {
  return metric instanceof cloudwatch.Metric || metric instanceof cloudwatch.MathExpression
    ? metric.with({ label })
    : metric;
}

/**
 * The service levels of each color, through the alarm factory:
 * - error rate: (target 5xx + target connection errors) / requests, in percent, per target group. ELB's
 *   own HTTPCode_ELB_5XX_Count has no target-group dimension, so the ELB-side failures attributable to a
 *   color are counted by TargetConnectionErrorCount (the requests the load balancer could not deliver to
 *   that color's targets, answered 502/503/504). No traffic is not an error: with no requests the
 *   expression yields no data point and missing data is NOT breaching.
 * - p95 TargetResponseTime; no traffic -> no data -> not breaching.
 * - green's two: judged only in minutes with at least `serviceLevels.minRequestsPerMinute` green requests
 *   (see withMinimumSamples), missing data MISSING: too few requests is INSUFFICIENT_DATA, no page and no
 *   pass (the rollout's gates and bake require OK).
 * - unhealthy hosts (warning): a task failing its health check for 3 minutes.
 * - total throughput of both colors per hour below the floor (prod), BREACHING on missing data: silence
 *   here is zero requests, exactly what the alarm is for.
 * Any of the first, second and fourth can point at a metric the pipeline publishes instead.
 */
export function routingServiceLevelAlarms(
  scope: Construct,
  props: RoutingServiceLevelAlarmsProps,
): ServiceLevelAlarms {
  const sl = props.serviceLevels;
  const custom = sl.customMetrics;
  const result: Record<Color, ServiceLevelAlarm[]> = { blue: [], green: [] };
  const series = {} as Record<Color, ServiceLevelAlarms['series'][Color]>;
  const errorThreshold = custom.errorRate?.threshold ?? sl.errorRatePercent;
  const latencyThreshold = custom.latency?.threshold ?? sl.p95Seconds;

  for (const color of ['blue', 'green'] as const) {
    const m = props.metrics[color];
    const C = color === 'blue' ? 'Blue' : 'Green';
    const errorRate: cloudwatch.IMetric = custom.errorRate
      ? customMetric(custom.errorRate, color, 'Average', MINUTE)
      : new cloudwatch.MathExpression({
          // Ids carry the color so both colors' expressions can share a dashboard graph.
          expression: `IF(${color}Requests > 0, 100 * (FILL(${color}5xx, 0) + FILL(${color}ConnErrors, 0)) / ${color}Requests, 0)`,
          usingMetrics: {
            [`${color}Requests`]: m.requests,
            [`${color}5xx`]: m.target5xx,
            [`${color}ConnErrors`]: m.connectionErrors,
          },
          period: MINUTE,
          label: `${color} 5xx error rate (%)`,
        });
    const latency: cloudwatch.IMetric = custom.latency
      ? customMetric(custom.latency, color, 'p95', MINUTE)
      : m.responseTime;
    // Green's ratio alarms judge only minutes with enough requests (evidence before promotion).
    const judged =
      color === 'green' ? withMinimumSamples(color, m.requests, sl.minRequestsPerMinute) : undefined;
    const alarmedErrorRate = judged ? judged(errorRate, 'errorRate', 'error rate') : errorRate;
    const alarmedLatency = judged ? judged(latency, 'latency', 'p95') : latency;
    // Green: a minute below the minimum has no datapoint. MISSING (not NOT_BREACHING, which would turn
    // "no evidence" into OK, a pass; not IGNORE, which would keep a stale OK; not BREACHING, which would
    // page for a quiet minute): a window without enough requests is INSUFFICIENT_DATA, which never pages
    // and which the rollout's gates read as "not enough evidence". Blue: no traffic is not an error.
    const missing =
      color === 'green' ? cloudwatch.TreatMissingData.MISSING : cloudwatch.TreatMissingData.NOT_BREACHING;
    const evidence =
      color === 'green'
        ? ` Minutes with fewer than ${sl.minRequestsPerMinute} green requests are not judged (INSUFFICIENT_DATA when none is).`
        : '';
    series[color] = {
      errorRate,
      latency: labelled(
        latency,
        custom.latency ? `${color} ${custom.latency.metricName}` : `${color} p95 response time (s)`,
      ),
      requests: m.requests.with({ label: `${color} requests` }),
      healthyHosts: m.healthyHosts.with({ label: `${color} healthy` }),
      unhealthyHosts: m.unhealthyHosts.with({ label: `${color} unhealthy` }),
    };

    const add = (
      kind: ServiceLevelKind,
      metric: cloudwatch.IMetric,
      threshold: number,
      alarm: cloudwatch.Alarm,
    ) =>
      result[color].push({
        alarm,
        kind,
        color,
        metric,
        threshold,
        alarmName: nameOf(props.alarms, alarm),
      });

    add(
      'error-rate',
      alarmedErrorRate,
      errorThreshold,
      props.alarms.createAlarm(scope, `${C}ErrorRateAlarm`, {
        area: 'routing',
        what: `${color}-error-rate`,
        severity: 'critical',
        metric: alarmedErrorRate,
        threshold: errorThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: GREEN_ALARM_WINDOW.evaluationPeriods,
        datapointsToAlarm: GREEN_ALARM_WINDOW.datapointsToAlarm,
        treatMissingData: missing,
        meaning: `The ${color} pipeline answers more than ${errorThreshold}${custom.errorRate ? '' : '%'} of its requests with errors (2 of the last 3 minutes).${evidence}`,
        firstCheck:
          color === 'green'
            ? `npm run shift -- --env ${props.envName} --status: if green took traffic recently, roll back: npm run shift -- --env ${props.envName} --rollback`
            : `The blue service's logs and recent deployments (npm run shift -- --env ${props.envName} --status).`,
        runbookAnchor: 'routing-error-rate',
      }),
    );
    add(
      'latency-p95',
      alarmedLatency,
      latencyThreshold,
      props.alarms.createAlarm(scope, `${C}LatencyAlarm`, {
        area: 'routing',
        what: `${color}-latency-p95`,
        severity: 'critical',
        metric: alarmedLatency,
        threshold: latencyThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: GREEN_ALARM_WINDOW.evaluationPeriods,
        datapointsToAlarm: GREEN_ALARM_WINDOW.datapointsToAlarm,
        treatMissingData: missing,
        meaning: `The ${color} pipeline's p95 ${custom.latency ? custom.latency.metricName : 'response time'} is above ${latencyThreshold}${custom.latency ? '' : ' s'} (2 of the last 3 minutes).${evidence}`,
        firstCheck: `The ${color} service's CPU/memory (Container Insights) and the database's load.`,
        runbookAnchor: 'routing-latency',
      }),
    );
    add(
      'unhealthy-hosts',
      series[color].unhealthyHosts,
      1,
      props.alarms.createAlarm(scope, `${C}UnhealthyHostsAlarm`, {
        area: 'routing',
        what: `${color}-unhealthy-hosts`,
        severity: 'warning',
        metric: m.unhealthyHosts,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // The metric is reported while the target group has targets; no data means no targets to judge.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        meaning: `At least one ${color} task has failed its load balancer health check for 3 minutes.`,
        firstCheck: `aws ecs describe-services for the ${color} service (events) and its stopped tasks' reasons.`,
        runbookAnchor: 'routing-unhealthy-hosts',
      }),
    );
  }

  let throughput: ServiceLevelAlarm | undefined;
  const floor = custom.throughput?.threshold ?? sl.minThroughputPerHour;
  if (floor !== undefined) {
    const hour = Duration.hours(1);
    const perColor = (color: Color) =>
      custom.throughput
        ? customMetric(custom.throughput, color, 'Sum', hour)
        : props.metrics[color].requests.with({ period: hour, statistic: 'Sum' });
    const total = new cloudwatch.MathExpression({
      expression: 'FILL(blue, 0) + FILL(green, 0)',
      usingMetrics: { blue: perColor('blue'), green: perColor('green') },
      period: hour,
      label: 'requests per hour (blue + green)',
    });
    const alarm = props.alarms.createAlarm(scope, 'ThroughputAlarm', {
      area: 'routing',
      what: 'throughput',
      severity: 'warning',
      metric: total,
      threshold: floor,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      meaning: `Both pipelines together handled fewer than ${floor} requests in the last hour (no data counts as none).`,
      firstCheck:
        'Whether submissions stopped upstream (a quiet hour) or the load balancer refuses them (ELB 4xx/5xx).',
      runbookAnchor: 'routing-throughput',
    });
    throughput = {
      alarm,
      alarmName: nameOf(props.alarms, alarm),
      kind: 'throughput',
      metric: total,
      threshold: floor,
    };
  }

  return {
    blue: result.blue,
    green: result.green,
    throughput,
    series,
    thresholds: { errorRate: errorThreshold, latency: latencyThreshold, throughput: floor },
  };
}

/**
 * `IF(requests >= N, value)`: the value in minutes where the color served at least N requests, no datapoint
 * otherwise (IF with two arguments yields nothing when the condition is false). For the load balancer's
 * error rate the requests are already in the expression, so no metric is added; p95 and a custom metric
 * add the color's RequestCount (one alarm metric each, $0.10 a month).
 */
function withMinimumSamples(color: Color, requests: cloudwatch.Metric, min: number) {
  return (value: cloudwatch.IMetric, id: string, label: string): cloudwatch.IMetric => {
    const requestsId = `${color}Requests`;
    if (value instanceof cloudwatch.MathExpression && requestsId in value.usingMetrics) {
      return new cloudwatch.MathExpression({
        expression: `IF(${requestsId} >= ${min}, ${value.expression})`,
        usingMetrics: value.usingMetrics,
        period: MINUTE,
        label: `${value.label ?? label} (minutes with >= ${min} requests)`,
      });
    }
    const valueId = `${color}${id[0]!.toUpperCase()}${id.slice(1)}`;
    return new cloudwatch.MathExpression({
      expression: `IF(${requestsId} >= ${min}, ${valueId})`,
      usingMetrics: { [requestsId]: requests, [valueId]: value },
      period: MINUTE,
      label: `${color} ${label} (minutes with >= ${min} requests)`,
    });
  };
}

function nameOf(factory: AlarmFactory, alarm: cloudwatch.Alarm): string {
  const registered = factory.alarms.find((r) => r.alarm === alarm);
  if (!registered) throw new Error('alarm was not created by the AlarmFactory');
  return registered.alarmName;
}
