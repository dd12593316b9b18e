import { Annotations, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import {
  ALARM_NAME_SEGMENT,
  ALARM_NAME_WHAT,
  alarmName as buildAlarmName,
  alarmNamePrefix,
  criticalCompositeAlarmName,
} from '../project';
import { accept } from '../nag/acknowledge';
import type { AlertTopics, Severity } from './alert-topics';

export interface GuardrailAlarmProps {
  /** Capability the alarm belongs to: `checks`, `snapshots`, `database`, `routing`, ... (one segment, no hyphen). */
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
  /**
   * For a critical alarm that ignores missing data (keeps its state through a gap, so a minute the source
   * could not look neither pages again nor resolves the incident): the alarm that pages when the source
   * falls silent, e.g. `checks-heartbeat-missing`. Without it such an alarm gets a synth warning.
   * @default none
   */
  readonly silenceCoveredBy?: string;
}

/** Thresholds of one metric keyed by severity (from config); a severity left out gets no alarm. */
export interface SeverityThresholds {
  readonly warning?: number;
  readonly critical?: number;
}

/** One metric watched at up to two severities: the props of `createAlarm` minus severity and threshold. */
export interface SeverityAlarmsProps extends Omit<GuardrailAlarmProps, 'severity' | 'threshold' | 'meaning'> {
  readonly thresholds: SeverityThresholds;
  /** What the alarm means at a given severity and threshold, in one sentence. */
  readonly meaning: (severity: Severity, threshold: number) => string;
}

export interface SeverityAlarms {
  readonly warning?: cloudwatch.Alarm;
  readonly critical?: cloudwatch.Alarm;
}

export interface RegisteredAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly props: GuardrailAlarmProps;
  readonly alarmName: string;
}

export interface AlarmFactoryProps {
  readonly topics: AlertTopics;
  /** The environment: every alarm is named `alarmName(envName, area, what)` (lib/project.ts). */
  readonly envName: string;
  /** URL of docs/RUNBOOK.md as the on-call person opens it. */
  readonly runbookUrl: string;
}

/** A critical alarm whose page a composite alarm sends, held while another alarm (the known cause) is in ALARM. */
export interface HeldPage {
  /** The metric alarm: still critical and in the critical composite, but without actions of its own. */
  readonly target: RegisteredAlarm;
  /** The alarm whose ALARM state holds the page (CloudWatch's actions suppressor). */
  readonly holder: RegisteredAlarm;
  /** `<target name>-page`: ALARM(target), pages on the critical topic unless held. */
  readonly composite: cloudwatch.CompositeAlarm;
  readonly waitPeriod: Duration;
  readonly extensionPeriod: Duration;
}

export interface HoldPageProps {
  /** Area and name part of the critical alarm whose page is held, e.g. `routing`, `blue-error-rate`. */
  readonly area: string;
  readonly what: string;
  /** The alarm that says the cause is already known (it pages or mails on its own). */
  readonly holder: cloudwatch.Alarm;
  /**
   * The longest the holder can take to enter ALARM after the cause began. The page waits this long minus the
   * shortest the target can take (its period x datapoints to alarm), at least 60 s, for the holder.
   */
  readonly holderLatency: Duration;
  /** How long the page stays held after the holder leaves ALARM (for the target to recover too). */
  readonly extensionPeriod: Duration;
  /** Why the page is held, in one sentence (appended to the page's description). */
  readonly reason: string;
}

const NAME_PART = ALARM_NAME_WHAT;

/** CloudWatch's limit on the length of a composite alarm rule. */
export const ALARM_RULE_MAX_LENGTH = 10240;

/**
 * The one way this app creates alarms: name `<project>-<env>-<area>-<what>`, a description that says what
 * it means, what to check first and where the runbook section is, an explicit missing-data decision,
 * and an alarm action plus an OK action on the topic of its severity (so incidents resolve themselves).
 * Every alarm is registered, so dashboards and composite alarms can list them all.
 */
export class AlarmFactory extends Construct {
  private readonly registered: RegisteredAlarm[] = [];
  private readonly held: HeldPage[] = [];

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

  /** The pages held while their cause's alarm is in ALARM (see holdPageWhile). */
  get heldPages(): readonly HeldPage[] {
    return this.held;
  }

  /** The registered alarm `<prefix>-<area>-<what>`, if one was created. */
  find(area: string, what: string): RegisteredAlarm | undefined {
    const name = buildAlarmName(this.props.envName, area, what);
    return this.registered.find((r) => r.alarmName === name);
  }

  /**
   * One page per cause where one cause trips two critical alarms: the target keeps its state (and its place
   * in the critical composite and on the dashboard) but loses its actions; a composite alarm `<target>-page`,
   * ALARM(target), pages instead, with CloudWatch's actions suppressor set to the holder. When the target
   * enters ALARM while the holder is in ALARM, nothing pages; when the holder is not (yet) in ALARM, the page
   * waits for it up to the wait period, then pages; once the holder leaves ALARM, a target still in ALARM after
   * the extension period pages (its own problem, not the held cause). The cost: a page of the target that is
   * not the held cause comes up to the wait period later.
   */
  holdPageWhile(scope: Construct, id: string, p: HoldPageProps): HeldPage {
    const target = this.find(p.area, p.what);
    const holder = this.registered.find((r) => r.alarm === p.holder);
    const name = buildAlarmName(this.props.envName, p.area, p.what);
    if (!target) throw new Error(`AlarmFactory: holdPageWhile: no alarm ${name} to hold`);
    if (!holder)
      throw new Error(`AlarmFactory: holdPageWhile: the holder of ${name} is not an alarm of this factory`);
    if (target.props.severity !== 'critical')
      throw new Error(
        `AlarmFactory: holdPageWhile: ${name} is ${target.props.severity}; only a page can be held`,
      );
    if (this.held.some((h) => h.target === target))
      throw new Error(`AlarmFactory: holdPageWhile: the page of ${name} is already held`);
    const metric = target.alarm.metric;
    const period =
      metric instanceof cloudwatch.MathExpression
        ? metric.period
        : (metric.toMetricConfig().metricStat?.period ?? Duration.minutes(1));
    const fastest =
      period.toSeconds() * (target.props.datapointsToAlarm ?? target.props.evaluationPeriods ?? 1);
    const waitPeriod = Duration.seconds(Math.max(60, p.holderLatency.toSeconds() - fastest));
    // The metric alarm keeps its state; the composite carries its page (and its OK).
    const cfn = target.alarm.node.defaultChild as cloudwatch.CfnAlarm;
    cfn.alarmActions = undefined;
    cfn.okActions = undefined;
    accept.alarmPagedByComposite(
      cfn,
      `${name} pages through ${name}-page, a composite alarm with its actions and an actions suppressor (${holder.alarmName}).`,
    );
    const description = [
      `[CRITICAL] ${target.props.meaning} (Held while ${holder.alarmName} is in ALARM: ${p.reason})`,
      `First check: ${target.props.firstCheck}`,
      `Runbook: ${this.props.runbookUrl}#${target.props.runbookAnchor}`,
    ].join('\n');
    if (description.length > 1024)
      throw new Error(
        `AlarmFactory: description of ${name}-page is ${description.length} characters (max 1024)`,
      );
    const composite = new cloudwatch.CompositeAlarm(scope, id, {
      compositeAlarmName: `${name}-page`,
      alarmRule: cloudwatch.AlarmRule.fromAlarm(target.alarm, cloudwatch.AlarmState.ALARM),
      alarmDescription: description,
      actionsSuppressor: holder.alarm,
      actionsSuppressorWaitPeriod: waitPeriod,
      actionsSuppressorExtensionPeriod: p.extensionPeriod,
    });
    const action = new actions.SnsAction(this.props.topics.topicFor('critical'));
    composite.addAlarmAction(action);
    composite.addOkAction(action);
    const page: HeldPage = { target, holder, composite, waitPeriod, extensionPeriod: p.extensionPeriod };
    this.held.push(page);
    return page;
  }

  /** The alarms of one severity, in creation order. */
  alarmsOf(severity: Severity): readonly RegisteredAlarm[] {
    return this.registered.filter((r) => r.props.severity === severity);
  }

  /**
   * One alarm per configured severity of the same metric, named `<area>-<what>-<severity>` (ids
   * `<id>Warning`, `<id>Critical`). Refuses thresholds in the wrong order for the comparison: with
   * "greater than" the warning must fire first (lower threshold), with "less than" the critical must be lower.
   */
  createSeverityAlarms(scope: Construct, id: string, p: SeverityAlarmsProps): SeverityAlarms {
    const { warning, critical } = p.thresholds;
    if (warning === undefined && critical === undefined)
      throw new Error(`AlarmFactory: ${p.area}-${p.what} has neither a warning nor a critical threshold`);
    if (warning !== undefined && critical !== undefined) {
      const higherIsWorse = [
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ].includes(p.comparisonOperator);
      const ordered = higherIsWorse ? warning < critical : warning > critical;
      if (!Token.isUnresolved(warning) && !Token.isUnresolved(critical) && !ordered)
        throw new Error(
          `AlarmFactory: ${p.area}-${p.what}: warning threshold ${warning} must be ${higherIsWorse ? 'below' : 'above'} critical threshold ${critical} (${p.comparisonOperator})`,
        );
    }
    const make = (severity: Severity, threshold: number | undefined) =>
      threshold === undefined
        ? undefined
        : this.createAlarm(scope, `${id}${severity === 'critical' ? 'Critical' : 'Warning'}`, {
            ...p,
            what: `${p.what}-${severity}`,
            severity,
            threshold,
            meaning: p.meaning(severity, threshold),
          });
    return { warning: make('warning', warning), critical: make('critical', critical) };
  }

  /**
   * The environment's composite alarm: in ALARM while ANY critical alarm of this factory is. Its rule is
   * rendered at synth, so critical alarms created after this call (by capabilities added later in the
   * stack) are included too. It has no actions of its own: every critical alarm already pages with its
   * own description and runbook link; the composite is the one state the shift preflight, a pager's
   * status check and the dashboard look at (paging on it as well would page twice for one incident).
   */
  createCriticalComposite(scope: Construct, id: string): cloudwatch.CompositeAlarm {
    const stack = Stack.of(scope);
    const alarmName = criticalCompositeAlarmName(this.props.envName);
    const rule: cloudwatch.IAlarmRule = {
      renderAlarmRule: () =>
        Lazy.string({
          produce: () => {
            const critical = this.alarmsOf('critical');
            if (critical.length === 0)
              throw new Error(`AlarmFactory: ${alarmName} has no critical alarm to watch`);
            // Length of the rule once the alarm ARNs are resolved (names are plain strings).
            const arnPrefix = `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:`;
            const length = critical.reduce((n, r) => n + `ALARM("${arnPrefix}${r.alarmName}") OR `.length, 0);
            if (length > ALARM_RULE_MAX_LENGTH)
              throw new Error(
                `AlarmFactory: ${alarmName} would watch ${critical.length} critical alarms, a rule of about ${length} characters (CloudWatch allows ${ALARM_RULE_MAX_LENGTH}); group them into per-area composites`,
              );
            return cloudwatch.AlarmRule.anyOf(
              ...critical.map((r) => cloudwatch.AlarmRule.fromAlarm(r.alarm, cloudwatch.AlarmState.ALARM)),
            ).renderAlarmRule();
          },
        }),
    };
    return new cloudwatch.CompositeAlarm(scope, id, {
      compositeAlarmName: alarmName,
      alarmRule: rule,
      alarmDescription: [
        '[CRITICAL] At least one critical alarm of this environment is in ALARM (each one pages on its own; this alarm has no actions).',
        `First check: aws cloudwatch describe-alarms --state-value ALARM --alarm-name-prefix ${alarmNamePrefix(this.props.envName)}`,
        `Runbook: ${this.props.runbookUrl}#critical-any`,
      ].join('\n'),
    });
  }

  /** Creates the alarm in `scope` (the capability's construct) and wires it to its severity's topic. */
  createAlarm(scope: Construct, id: string, p: GuardrailAlarmProps): cloudwatch.Alarm {
    const problems: string[] = [];
    if (!ALARM_NAME_SEGMENT.test(p.area))
      problems.push(
        `area ${JSON.stringify(p.area)} must be one lowercase word (no hyphen: names parse back)`,
      );
    if (!ALARM_NAME_SEGMENT.test(this.props.envName))
      problems.push(`environment ${JSON.stringify(this.props.envName)} must be one lowercase word`);
    if (!NAME_PART.test(p.what)) problems.push(`what ${JSON.stringify(p.what)} must be kebab-case`);
    if (!NAME_PART.test(p.runbookAnchor))
      problems.push(`runbookAnchor ${JSON.stringify(p.runbookAnchor)} must be a heading slug`);
    if (!Token.isUnresolved(p.threshold) && !Number.isFinite(p.threshold))
      problems.push(`threshold ${p.threshold} must be finite`);
    const alarmName = buildAlarmName(this.props.envName, p.area, p.what);
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
    if (
      p.severity === 'critical' &&
      p.treatMissingData === cloudwatch.TreatMissingData.IGNORE &&
      p.silenceCoveredBy === undefined
    ) {
      Annotations.of(alarm).addWarningV2(
        'pipeline-guardrails:critical-alarm-ignores-missing-data',
        `${alarmName} is critical but ignores missing data: a silent source never pages.`,
      );
    }
    return alarm;
  }
}
