import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { RoutingConfig } from '../config';
import type { DashboardSection } from './dashboard-section';
import type { ServiceLevelAlarms } from './weighted-routing-alarms';

export interface RoutingDashboardProps {
  readonly envName: string;
  readonly serviceLevels: RoutingConfig['serviceLevels'];
  readonly slo: ServiceLevelAlarms;
}

/** Blue in blue, green in green, on every panel, so a shift reads at a glance. */
export const COLOR_HEX = { blue: '#1f77b4', green: '#2ca02c' } as const;
const THRESHOLD_HEX = '#d62728';

/**
 * The routing part of the dashboard: blue and green side by side on each panel with the alarm threshold
 * as a red line, then hosts, throughput and the state of every routing alarm.
 */
export function routingDashboardSection(props: RoutingDashboardProps): DashboardSection {
  const { slo } = props;
  const pair = (pick: (s: ServiceLevelAlarms['series']['blue']) => cloudwatch.IMetric) =>
    (['blue', 'green'] as const).map((c) => withColor(pick(slo.series[c]), COLOR_HEX[c]));
  const line = (value: number, label: string): cloudwatch.HorizontalAnnotation => ({
    value,
    label,
    color: THRESHOLD_HEX,
    fill: cloudwatch.Shading.NONE,
  });

  const errorRate = new cloudwatch.GraphWidget({
    title: '5xx error rate by color (%)',
    left: pair((s) => s.errorRate),
    leftAnnotations: [line(slo.thresholds.errorRate, `alarm > ${slo.thresholds.errorRate}`)],
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  const latency = new cloudwatch.GraphWidget({
    title: 'p95 response time by color (s)',
    left: pair((s) => s.latency),
    leftAnnotations: [line(slo.thresholds.latency, `alarm > ${slo.thresholds.latency}`)],
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  const requests = new cloudwatch.GraphWidget({
    title: 'Requests per minute by color (the traffic split)',
    left: pair((s) => s.requests),
    stacked: true,
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  const hosts = new cloudwatch.GraphWidget({
    title: 'Healthy (solid) and unhealthy tasks by color',
    left: pair((s) => s.healthyHosts),
    right: pair((s) => s.unhealthyHosts),
    rightAnnotations: [line(1, 'unhealthy alarm >= 1')],
    leftYAxis: { min: 0, showUnits: false },
    rightYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  const secondRow: cloudwatch.IWidget[] = [hosts];
  if (slo.throughput && slo.thresholds.throughput !== undefined) {
    secondRow.push(
      new cloudwatch.GraphWidget({
        title: 'Requests per hour, both colors',
        left: [slo.throughput.metric],
        leftAnnotations: [line(slo.thresholds.throughput, `alarm < ${slo.thresholds.throughput}`)],
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
      }),
    );
  }
  const all = [...slo.blue, ...slo.green, ...(slo.throughput ? [slo.throughput] : [])];
  secondRow.push(
    new cloudwatch.AlarmStatusWidget({
      title: 'Routing alarms',
      alarms: all.map((a) => a.alarm),
      width: secondRow.length === 1 ? 16 : 8,
      height: 6,
    }),
  );
  return {
    title: `Blue-green routing (${props.envName})`,
    description:
      'Blue is the old monolith pipeline, green the unified pipeline. A red line is an alarm threshold. Current weights: `npm run shift -- --env ' +
      `${props.envName} --status\`.`,
    rows: [[errorRate, latency, requests], secondRow],
  };
}

function withColor(metric: cloudwatch.IMetric, color: string): cloudwatch.IMetric {
  if (metric instanceof cloudwatch.Metric || metric instanceof cloudwatch.MathExpression) {
    return metric.with({ color });
  }
  return metric;
}
