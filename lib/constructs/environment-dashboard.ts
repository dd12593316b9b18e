import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { AlarmFactory, RegisteredAlarm } from './alarm-factory';
import { SEVERITIES, type Severity } from './alert-topics';
import type { DashboardSection } from './dashboard-section';
import { GREEN_WEIGHT_METRIC, METRIC_NAMESPACE } from '../project';

export interface EnvironmentDashboardProps {
  readonly envName: string;
  /** `<project>-<env>`. */
  readonly dashboardName: string;
  /** URL of docs/RUNBOOK.md as the on-call person opens it. */
  readonly runbookUrl: string;
  /**
   * Capability sections in display order; `undefined` (a capability not built or not configured) and
   * sections without widgets are left out, so the dashboard never shows an empty widget.
   */
  readonly sections: readonly (DashboardSection | undefined)[];
  /** Every alarm of the factory is listed in the alarm status widgets, including ones created later. */
  readonly alarms: AlarmFactory;
  /** Shown next to the header: the single "anything critical?" state. */
  readonly criticalComposite?: cloudwatch.IAlarm;
  /** @default Duration.days(1) */
  readonly defaultInterval?: Duration;
  /** Graph green's weight over time (GREEN_WEIGHT_METRIC) under the header; with routing. @default false */
  readonly showWeights?: boolean;
}

/** Alarms an AlarmStatusWidget lists at most; more are split over several widgets. */
export const ALARMS_PER_STATUS_WIDGET = 100;

/**
 * The review dashboard of one environment, `<project>-<env>`: a header (environment, where the blue/green
 * weights come from, runbook links, the critical composite), the capability sections in the order given,
 * then alarm status widgets listing EVERY alarm of the factory, critical first.
 */
export class EnvironmentDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** Titles of the sections shown, in order (for tests and the README). */
  readonly sectionTitles: readonly string[];

  constructor(scope: Construct, id: string, props: EnvironmentDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: props.defaultInterval ?? Duration.days(1),
    });

    const runbook = props.runbookUrl;
    const header = new cloudwatch.TextWidget({
      markdown: [
        `# ${props.dashboardName}`,
        `Review dashboard of the **${props.envName}** environment: traffic and service levels (blue and green), data integrity, freshness, snapshots, database health, and every alarm.`,
        '',
        `**Blue/green weights** live in the load balancer's weighted listener rule (changed only by the shift command, the rollout and the auto-rollback; never by a deploy). ` +
          `Read them with \`npm run shift -- --env ${props.envName} --status\`.`,
        '',
        `[Runbook](${runbook}) · [Roll traffic back, take a snapshot, run the checks](${runbook}#commands-you-will-need) · [Anything critical](${runbook}#critical-any)`,
      ].join('\n'),
      width: props.criticalComposite ? 16 : 24,
      height: 5,
    });
    if (props.criticalComposite) {
      this.dashboard.addWidgets(
        header,
        new cloudwatch.AlarmStatusWidget({
          title: 'Anything critical? (composite of every critical alarm; held pages)',
          alarms: [props.criticalComposite, ...props.alarms.heldPages.map((h) => h.composite)],
          width: 8,
          height: 5,
        }),
      );
    } else {
      this.dashboard.addWidgets(header);
    }

    if (props.showWeights) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Green weight over time (% of traffic; blue is the rest)',
          left: [
            // A weight holds until the next change: repeat the last value across minutes without a datapoint.
            new cloudwatch.MathExpression({
              expression: 'FILL(weight, REPEAT)',
              usingMetrics: {
                weight: new cloudwatch.Metric({
                  namespace: METRIC_NAMESPACE,
                  metricName: GREEN_WEIGHT_METRIC,
                  dimensionsMap: { Environment: props.envName },
                  statistic: 'Maximum',
                  period: Duration.minutes(1),
                }),
              },
              period: Duration.minutes(1),
              label: 'green %',
            }),
          ],
          leftYAxis: { min: 0, max: 100, showUnits: false },
          leftAnnotations: [10, 25, 50].map((value) => ({
            value,
            color: cloudwatch.Color.GREY,
            label: `${value}%`,
          })),
          width: 24,
          height: 4,
        }),
      );
    }

    const shown: string[] = [];
    for (const section of props.sections) {
      if (section === undefined) continue;
      const rows = section.rows.filter((r) => r.length > 0);
      if (rows.length === 0) continue;
      shown.push(section.title);
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({
          markdown: [`## ${section.title}`, section.description ?? ''].filter((l) => l !== '').join('\n'),
          width: 24,
          height: section.description ? 2 : 1,
        }),
      );
      rows.forEach((row, i) => {
        const width = row.reduce((n, w) => n + w.width, 0);
        if (width > cloudwatch.GRID_WIDTH) {
          Annotations.of(this).addWarningV2(
            'pipeline-guardrails:dashboard-row-too-wide',
            `Row ${i + 1} of section "${section.title}" is ${width} units wide (the grid has ${cloudwatch.GRID_WIDTH}); it will wrap.`,
          );
        }
        this.dashboard.addWidgets(...row);
      });
    }
    this.sectionTitles = shown;

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `## Alarm status\nEvery alarm of ${props.envName}, critical (pages) then warning (mail). Each alarm's description links to its runbook section.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(new AllAlarmsStatusWidget(props.alarms));
  }
}

/**
 * Alarm status widgets for every alarm of the factory, one group per severity, built when the dashboard
 * is rendered (at synth) so alarms created after the dashboard are listed too. Added alone to a dashboard
 * row (not inside a Row, which reads the height when constructed).
 */
export class AllAlarmsStatusWidget implements cloudwatch.IWidget {
  readonly width = cloudwatch.GRID_WIDTH;
  private x = 0;
  private y = 0;

  constructor(private readonly factory: AlarmFactory) {}

  get height(): number {
    return this.build().reduce((n, w) => n + w.height, 0);
  }

  position(x: number, y: number): void {
    this.x = x;
    this.y = y;
  }

  toJson(): unknown[] {
    let y = this.y;
    return this.build().flatMap((w) => {
      w.position(this.x, y);
      y += w.height;
      return w.toJson();
    });
  }

  private build(): cloudwatch.AlarmStatusWidget[] {
    return SEVERITIES.flatMap((severity) => statusWidgets(severity, this.factory.alarmsOf(severity)));
  }
}

function statusWidgets(
  severity: Severity,
  alarms: readonly RegisteredAlarm[],
): cloudwatch.AlarmStatusWidget[] {
  const chunks: RegisteredAlarm[][] = [];
  for (let i = 0; i < alarms.length; i += ALARMS_PER_STATUS_WIDGET)
    chunks.push(alarms.slice(i, i + ALARMS_PER_STATUS_WIDGET));
  return chunks.map(
    (chunk, i) =>
      new cloudwatch.AlarmStatusWidget({
        title: `${severity === 'critical' ? 'Critical (pages)' : 'Warning (mail)'}: ${alarms.length} alarm${alarms.length === 1 ? '' : 's'}${chunks.length > 1 ? ` (part ${i + 1} of ${chunks.length})` : ''}`,
        alarms: chunk.map((r) => r.alarm),
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        width: cloudwatch.GRID_WIDTH,
        // About four alarms per line at full width, plus the title.
        height: 2 + Math.ceil(chunk.length / 4),
      }),
  );
}
