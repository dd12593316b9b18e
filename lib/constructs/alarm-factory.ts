import { Annotations, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import type { AlertTopics, Severity } from './alert-topics';

export interface GuardrailAlarmProps {
  /** Capability the alarm belongs to: `checks`, `snapshots`, `database`, `routing`, ... */
  readonly area: string;
  /** Short kebab-case name of what is watched, e.g. `rows-lost-games`. */
  readonly what: string;
  readonly severity: Severity;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** No default on purpose: decide what silence means for each alarm. */
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** What the alarm means, in one sentence. */
  readonly meaning: string;
  /** The first thing the on-call person should check. */
  readonly firstCheck: string;
  /** Heading slug of the alarm's section in docs/RUNBOOK.md (e.g. `checks-rows-lost`). */
  readonly runbookAnchor: string;
}

export interface RegisteredAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly props: GuardrailAlarmProps;
  readonly alarmName: string;
}

export interface AlarmFactoryProps {
  readonly topics: AlertTopics;
  /** `<project>-<env>`, prefix of every alarm name. */
  readonly namePrefix: string;
  /** URL of docs/RUNBOOK.md as the on-call person opens it. */
  readonly runbookUrl: string;
}

const NAME_PART = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * The one way this app creates alarms: name `<project>-<env>-<area>-<what>`, a description that says what
 * it means, what to check first and where the runbook section is, an explicit missing-data decision,
 * and an alarm action plus an OK action on the topic of its severity (so incidents resolve themselves).
 * Every alarm is registered, so dashboards and composite alarms can list them all.
 */
export class AlarmFactory extends Construct {
  private readonly registered: RegisteredAlarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: AlarmFactoryProps,
  ) {
    super(scope, id);
  }

  /** Every alarm created so far, in creation order. */
  get alarms(): readonly RegisteredAlarm[] {
    return this.registered;
  }

  /** Creates the alarm in `scope` (the capability's construct) and wires it to its severity's topic. */
  createAlarm(scope: Construct, id: string, p: GuardrailAlarmProps): cloudwatch.Alarm {
    const problems: string[] = [];
    if (!NAME_PART.test(p.area)) problems.push(`area ${JSON.stringify(p.area)} must be kebab-case`);
    if (!NAME_PART.test(p.what)) problems.push(`what ${JSON.stringify(p.what)} must be kebab-case`);
    if (!NAME_PART.test(p.runbookAnchor))
      problems.push(`runbookAnchor ${JSON.stringify(p.runbookAnchor)} must be a heading slug`);
    if (!Token.isUnresolved(p.threshold) && !Number.isFinite(p.threshold))
      problems.push(`threshold ${p.threshold} must be finite`);
    const alarmName = `${this.props.namePrefix}-${p.area}-${p.what}`;
    if (this.registered.some((r) => r.alarmName === alarmName))
      problems.push(`alarm name ${alarmName} is already used`);
    const description = [
      `[${p.severity.toUpperCase()}] ${p.meaning}`,
      `First check: ${p.firstCheck}`,
      `Runbook: ${this.props.runbookUrl}#${p.runbookAnchor}`,
    ].join('\n');
    if (description.length > 1024)
      problems.push(`description of ${alarmName} is ${description.length} characters (max 1024)`);
    if (problems.length > 0)
      throw new Error(`AlarmFactory: invalid alarm ${alarmName}: ${problems.join('; ')}`);

    const alarm = new cloudwatch.Alarm(scope, id, {
      alarmName,
      alarmDescription: description,
      metric: p.metric,
      threshold: p.threshold,
      comparisonOperator: p.comparisonOperator,
      evaluationPeriods: p.evaluationPeriods ?? 1,
      datapointsToAlarm: p.datapointsToAlarm ?? p.evaluationPeriods ?? 1,
      treatMissingData: p.treatMissingData,
    });
    const action = new actions.SnsAction(this.props.topics.topicFor(p.severity));
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.registered.push({ alarm, props: p, alarmName });
    if (p.severity === 'critical' && p.treatMissingData === cloudwatch.TreatMissingData.IGNORE) {
      Annotations.of(alarm).addWarningV2(
        'pipeline-guardrails:critical-alarm-ignores-missing-data',
        `${alarmName} is critical but ignores missing data: a silent source never pages.`,
      );
    }
    return alarm;
  }
}
