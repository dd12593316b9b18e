import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { FunctionHealthConfig } from '../config/sections/alerting';
import type { AlarmFactory } from './alarm-factory';
import type { AlertTopics } from './alert-topics';
import type { DashboardSection } from './dashboard-section';
import type { GuardrailsFunction } from './guardrails-function';

/** A scheduled function of the guardrails whose own health is watched. */
export interface WatchedFunction {
  /** Kebab-case name in the alarm names: `data-checks`, `snapshots`. */
  readonly name: string;
  readonly function: GuardrailsFunction;
  /** How often it is invoked, for the graphs' period. */
  readonly every: Duration;
  /** Its reserved concurrency: throttles are watched only where one can refuse a run. @default none */
  readonly reservedConcurrency?: number;
  /** Watch its duration against its timeout (where a timed-out run goes unnoticed for long). @default true */
  readonly watchDuration?: boolean;
}

export interface PlatformHealthAlarmsProps {
  readonly config: FunctionHealthConfig;
  readonly alarms: AlarmFactory;
  readonly topics: AlertTopics;
  readonly functions: readonly WatchedFunction[];
}

/**
 * The guardrails watching themselves, all mail (warning):
 * - the paging path: `NumberOfNotificationsFailed` of the critical topic graphed (its alarm is the critical
 *   redrive queue's, AlertTopics.createRedriveAlarms: one notice per failed delivery);
 * - each scheduled function's maximum Duration above `durationPercentOfTimeout` of its timeout (the next runs
 *   will time out: the checker's timeout equals its schedule) and its Throttles (the snapshot function has a
 *   reserved concurrency of 1 and two schedules). An error or a missed run is already watched by the capability
 *   (heartbeat, snapshot age).
 */
export class PlatformHealthAlarms extends Construct {
  readonly alarmList: cloudwatch.Alarm[] = [];
  readonly dashboardSection: DashboardSection;

  constructor(scope: Construct, id: string, props: PlatformHealthAlarmsProps) {
    super(scope, id);
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;
    const GE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const failed = props.topics.critical.metricNumberOfNotificationsFailed({
      period: Duration.minutes(5),
      statistic: 'Sum',
    });
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        // Graphed, not alarmed: the same failed deliveries end in the critical topic's redrive queue, whose
        // alarm (alerting-critical-undelivered) is the one notice.
        title: 'Pages SNS could not deliver (critical topic)',
        left: [failed.with({ label: 'failed notifications' })],
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
        height: 6,
      }),
    ];

    for (const w of props.functions) {
      const fn = w.function.function;
      const timeout = fn.timeout ?? Duration.seconds(3);
      const limitMs = Math.round((timeout.toMilliseconds() * props.config.durationPercentOfTimeout) / 100);
      const period = Duration.minutes(Math.max(5, Math.min(60, w.every.toMinutes())));
      const duration = fn.metricDuration({ period, statistic: 'Maximum' });
      const throttles = fn.metricThrottles({ period, statistic: 'Sum' });
      if (w.watchDuration !== false)
        this.alarmList.push(
          props.alarms.createAlarm(this, `${pascal(w.name)}Duration`, {
            area: 'functions',
            what: `${w.name}-duration`,
            severity: 'warning',
            metric: duration,
            threshold: limitMs,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: notBreaching,
            meaning: `A ${w.name} run took more than ${props.config.durationPercentOfTimeout}% of its ${timeout.toSeconds()} s timeout: the next ones may time out and report nothing.`,
            firstCheck: `The function's log (slowest statements) and the database's load on the dashboard.`,
            runbookAnchor: 'functions-duration-throttles',
          }),
        );
      // Throttles only where a reserved concurrency can refuse a run (the snapshot function's is 1).
      if (w.reservedConcurrency !== undefined) {
        this.alarmList.push(
          props.alarms.createAlarm(this, `${pascal(w.name)}Throttles`, {
            area: 'functions',
            what: `${w.name}-throttles`,
            severity: 'warning',
            metric: throttles,
            threshold: 1,
            comparisonOperator: GE,
            treatMissingData: notBreaching,
            meaning: `Lambda throttled the ${w.name} function: an invocation was refused (reserved concurrency reached or the account limit).`,
            firstCheck: `aws lambda get-function-concurrency for the function; overlapping schedules or runs?`,
            runbookAnchor: 'functions-duration-throttles',
          }),
        );
      }
      widgets.push(
        new cloudwatch.GraphWidget({
          title: `${w.name}: longest run (ms) and throttles`,
          left: [duration.with({ label: 'max duration (ms)' })],
          right: [throttles.with({ label: 'throttles' })],
          leftAnnotations: [
            {
              value: limitMs,
              label: `warning > ${props.config.durationPercentOfTimeout}% of timeout`,
              color: cloudwatch.Color.ORANGE,
            },
          ],
          leftYAxis: { min: 0, max: timeout.toMilliseconds(), showUnits: false },
          rightYAxis: { min: 0, showUnits: false },
          width: 8,
          height: 6,
        }),
      );
    }
    this.dashboardSection = {
      title: 'Guardrails health',
      description: 'The paging path and the guardrails’ own scheduled functions (mail only).',
      rows: [widgets.slice(0, 3), widgets.slice(3)],
    };
  }
}

function pascal(kebab: string): string {
  return kebab.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}
