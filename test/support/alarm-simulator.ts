/**
 * A small model of CloudWatch alarm evaluation, run against a SYNTHESIZED template, so tests can ask "how many
 * pages does this failure produce?" of the alarm set as deployed, whoever created the alarms.
 *
 * What it models (from the CloudWatch documentation of alarm evaluation):
 * - metric alarms, single-metric or metric math (+ - * /, comparisons, FILL, IF, MAX, MIN), each evaluated
 *   every period (at most every 60 s, high-resolution alarms every 10 s) over the last EvaluationPeriods
 *   complete periods; ALARM when at least DatapointsToAlarm breach;
 * - TreatMissingData: breaching / notBreaching substitute the missing datapoints; with ignore a window with no
 *   datapoint keeps the current state; with missing it goes to INSUFFICIENT_DATA;
 * - a datapoint is visible to the evaluation `ingestSeconds` after its timestamp;
 * - pages: a transition into ALARM of an alarm (or composite alarm) whose AlarmActions is the critical topic,
 *   an RDS event whose category a subscription to the critical topic lists, and the auto-rollback function's
 *   message (on the topic in its RESULT_TOPIC_ARN when a watched alarm enters ALARM with green in traffic; a
 *   page only if that is the critical topic).
 * - a composite alarm's actions suppressor (ActionsSuppressor, WaitPeriod, ExtensionPeriod): entering ALARM
 *   while the suppressor is in ALARM does nothing; otherwise the actions wait up to WaitPeriod for the
 *   suppressor (which suppresses them if it enters ALARM meanwhile); once the suppressor leaves ALARM, a
 *   composite still in ALARM after ExtensionPeriod performs its actions.
 * What it does not: anomaly detection, percentiles (approximated by the maximum), CloudWatch's own delays
 * beyond `ingestSeconds`.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface MetricId {
  readonly namespace: string;
  readonly name: string;
  /** Dimension values; references render as `{LogicalId}` or `{LogicalId.Attribute}`. */
  readonly dims: Readonly<Record<string, string>>;
}

export interface Sample {
  /** Seconds since the start of the simulation (may be negative: history before it). */
  readonly t: number;
  readonly value: number;
}

/** All samples of a metric over the simulation; `undefined` for a metric the scenario does not know (an error). */
export type Series = (m: MetricId) => readonly Sample[] | undefined;

export interface RdsEvent {
  readonly t: number;
  readonly category: string;
}

export interface Scenario {
  readonly series: Series;
  readonly rdsEvents?: readonly RdsEvent[];
  /** Green's weight during the scenario (auto-rollback acts only while green takes traffic). */
  readonly greenWeight?: number;
}

export interface Page {
  readonly t: number;
  /** Alarm name, `rds-event:<category>` or `auto-rollback:<alarm>`. */
  readonly source: string;
}

export interface Transition {
  readonly t: number;
  readonly alarmName: string;
  readonly from: AlarmState;
  readonly to: AlarmState;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface SimulationResult {
  readonly pages: readonly Page[];
  readonly transitions: readonly Transition[];
  /** State of every metric alarm at the end. */
  readonly finalStates: Readonly<Record<string, AlarmState>>;
}

interface Query {
  readonly id: string;
  readonly metric?: MetricId & { readonly stat: string };
  readonly expression?: string;
  readonly returnData: boolean;
}

interface ModelAlarm {
  readonly logicalId: string;
  readonly name: string;
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: string;
  readonly treatMissingData: string;
  readonly topic?: 'critical' | 'warning';
  readonly queries: readonly Query[];
}

/** A template value as text; references become `{LogicalId}` / `{LogicalId.Attribute}`. */
export function refText(value: Json): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value && Array.isArray(value['Fn::Join'])) {
    const [sep, parts] = value['Fn::Join'] as [string, Json[]];
    return parts.map(refText).join(sep);
  }
  if (value && typeof value.Ref === 'string') return `{${value.Ref}}`;
  if (value && Array.isArray(value['Fn::GetAtt'])) return `{${value['Fn::GetAtt'].join('.')}}`;
  return '{token}';
}

function dimsOf(dimensions: Json): Record<string, string> {
  return Object.fromEntries(((dimensions ?? []) as Json[]).map((d) => [d.Name, refText(d.Value)]));
}

function topicOf(
  actions: Json,
  topics: Record<string, 'critical' | 'warning'>,
): 'critical' | 'warning' | undefined {
  const ref = (actions ?? [])[0]?.Ref as string | undefined;
  return ref === undefined ? undefined : topics[ref];
}

/** The alert topics of a template by logical id (topic names end in -critical / -warning). */
export function alertTopics(resources: Record<string, Json>): Record<string, 'critical' | 'warning'> {
  const out: Record<string, 'critical' | 'warning'> = {};
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::SNS::Topic') continue;
    const name = String(r.Properties?.TopicName ?? '');
    if (name.endsWith('-critical')) out[id] = 'critical';
    else if (name.endsWith('-warning')) out[id] = 'warning';
  }
  return out;
}

function modelAlarms(resources: Record<string, Json>): ModelAlarm[] {
  const topics = alertTopics(resources);
  const out: ModelAlarm[] = [];
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = r.Properties;
    let queries: Query[];
    let period: number;
    if (p.Metrics) {
      queries = (p.Metrics as Json[]).map((m) => ({
        id: m.Id,
        returnData: m.ReturnData !== false,
        expression: m.Expression,
        metric: m.MetricStat
          ? {
              namespace: m.MetricStat.Metric.Namespace,
              name: m.MetricStat.Metric.MetricName,
              dims: dimsOf(m.MetricStat.Metric.Dimensions),
              stat: m.MetricStat.Stat,
            }
          : undefined,
      }));
      period = Number(
        p.Metrics.find((m: Json) => m.MetricStat)?.MetricStat.Period ?? p.Metrics[0]?.Period ?? 60,
      );
      const exprPeriod = p.Metrics.find((m: Json) => m.Expression && m.Period)?.Period;
      if (exprPeriod) period = Number(exprPeriod);
    } else {
      queries = [
        {
          id: 'm',
          returnData: true,
          metric: {
            namespace: p.Namespace,
            name: p.MetricName,
            dims: dimsOf(p.Dimensions),
            stat: p.Statistic ?? p.ExtendedStatistic,
          },
        },
      ];
      period = Number(p.Period);
    }
    out.push({
      logicalId,
      name: p.AlarmName,
      period,
      evaluationPeriods: Number(p.EvaluationPeriods),
      datapointsToAlarm: Number(p.DatapointsToAlarm ?? p.EvaluationPeriods),
      threshold: Number(p.Threshold),
      comparison: p.ComparisonOperator,
      treatMissingData: p.TreatMissingData ?? 'missing',
      topic: topicOf(p.AlarmActions, topics),
      queries,
    });
  }
  return out;
}

/** Index of the first sample at or after `t` (samples sorted by time). */
function lowerBound(samples: readonly Sample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function aggregate(samples: readonly Sample[], stat: string): number | undefined {
  if (samples.length === 0) return undefined;
  const values = samples.map((s) => s.value);
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Minimum':
      return Math.min(...values);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
    default:
      // Maximum, and percentiles approximated by the maximum.
      return Math.max(...values);
  }
}

// --- Metric math: a recursive-descent evaluator for the expressions this app uses. -------------------------
type Value = number | undefined;

export function evaluateExpression(expression: string, vars: Readonly<Record<string, Value>>): Value {
  const tokens =
    expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|[-+*/(),<>]/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const expect = (t: string) => {
    if (next() !== t) throw new Error(`metric math: expected ${t} in ${expression}`);
  };
  const num = (f: (a: number, b: number) => number) => (a: Value, b: Value) =>
    a === undefined || b === undefined ? undefined : f(a, b);
  const comparison = (): Value => {
    let left = additive();
    const ops: Record<string, (a: number, b: number) => number> = {
      '>': (a, b) => (a > b ? 1 : 0),
      '<': (a, b) => (a < b ? 1 : 0),
      '>=': (a, b) => (a >= b ? 1 : 0),
      '<=': (a, b) => (a <= b ? 1 : 0),
      '==': (a, b) => (a === b ? 1 : 0),
      '!=': (a, b) => (a !== b ? 1 : 0),
    };
    while (peek() !== undefined && peek()! in ops) {
      const op = ops[next()!]!;
      left = num(op)(left, additive());
    }
    return left;
  };
  const additive = (): Value => {
    let left = term();
    while (peek() === '+' || peek() === '-') {
      const op = next();
      const right = term();
      left = num(op === '+' ? (a, b) => a + b : (a, b) => a - b)(left, right);
    }
    return left;
  };
  const term = (): Value => {
    let left = factor();
    while (peek() === '*' || peek() === '/') {
      const op = next();
      const right = factor();
      left = num(op === '*' ? (a, b) => a * b : (a, b) => (b === 0 ? NaN : a / b))(left, right);
    }
    return left;
  };
  const args = (): Value[] => {
    expect('(');
    const out: Value[] = [comparison()];
    while (peek() === ',') {
      next();
      out.push(comparison());
    }
    expect(')');
    return out;
  };
  const factor = (): Value => {
    const t = next();
    if (t === undefined) throw new Error(`metric math: unexpected end of ${expression}`);
    if (t === '(') {
      const v = comparison();
      expect(')');
      return v;
    }
    if (t === '-') {
      const v = factor();
      return v === undefined ? undefined : -v;
    }
    if (/^\d/.test(t)) return Number(t);
    if (peek() === '(') {
      const a = args();
      switch (t.toUpperCase()) {
        case 'FILL':
          return a[0] === undefined ? a[1] : a[0];
        case 'IF':
          return a[0] === undefined ? undefined : a[0] !== 0 ? a[1] : a[2];
        case 'MAX':
          return a.some((v) => v === undefined) ? undefined : Math.max(...(a as number[]));
        case 'MIN':
          return a.some((v) => v === undefined) ? undefined : Math.min(...(a as number[]));
        default:
          throw new Error(`metric math: function ${t} is not modelled (${expression})`);
      }
    }
    if (!(t in vars)) throw new Error(`metric math: unknown id ${t} in ${expression}`);
    return vars[t];
  };
  const v = comparison();
  if (i !== tokens.length) throw new Error(`metric math: could not parse ${expression}`);
  return v !== undefined && Number.isNaN(v) ? undefined : v;
}

function breaches(comparison: string, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`comparison ${comparison} is not modelled`);
  }
}

export interface SimulateOptions {
  /** Simulated seconds. */
  readonly horizonSeconds: number;
  /** Seconds from a datapoint's timestamp until evaluations see it. @default 0 */
  readonly ingestSeconds?: number;
}

/** Runs the scenario against every alarm of the template and returns the pages it would produce. */
export function simulate(template: Json, scenario: Scenario, options: SimulateOptions): SimulationResult {
  const resources: Record<string, Json> = template.Resources;
  const alarms = modelAlarms(resources);
  const ingest = options.ingestSeconds ?? 0;
  const cache = new Map<string, readonly Sample[]>();
  const samplesOf = (m: MetricId): readonly Sample[] => {
    const key = JSON.stringify([m.namespace, m.name, m.dims]);
    let found = cache.get(key);
    if (!found) {
      const s = scenario.series(m);
      if (s === undefined)
        throw new Error(`scenario has no series for ${m.namespace}/${m.name} ${JSON.stringify(m.dims)}`);
      found = [...s].sort((a, b) => a.t - b.t);
      cache.set(key, found);
    }
    return found;
  };
  const datapoint = (a: ModelAlarm, start: number, now: number): Value => {
    const vars: Record<string, Value> = {};
    for (const q of a.queries) {
      if (!q.metric) continue;
      const all = samplesOf(q.metric);
      const end = Math.min(start + a.period, now - ingest + 1);
      const inWindow = all.slice(lowerBound(all, start), lowerBound(all, end));
      vars[q.id] = aggregate(inWindow, q.metric.stat);
    }
    const ret = a.queries.find((q) => q.returnData) ?? a.queries[0]!;
    return ret.expression === undefined ? vars[ret.id] : evaluateExpression(ret.expression, vars);
  };

  const states: Record<string, AlarmState> = Object.fromEntries(
    alarms.map((a) => [a.name, 'INSUFFICIENT_DATA']),
  );
  const transitions: Transition[] = [];
  const pages: Page[] = [];

  // The auto-rollback model: the rule's watched alarm names and the topic its function pages.
  const autoRollback = autoRollbackModel(resources);
  let greenInTraffic = (scenario.greenWeight ?? 0) > 0;
  const composites = compositeModels(resources, alarms);
  const compositeStates: Record<string, AlarmState> = Object.fromEntries(
    composites.map((c) => [c.name, 'OK']),
  );
  const suppression: Record<string, { pendingSince?: number; suppressed?: boolean; leftAt?: number }> =
    Object.fromEntries(composites.map((c) => [c.name, {}]));

  const step = 10;
  for (let now = step; now <= options.horizonSeconds; now += step) {
    for (const a of alarms) {
      const every = Math.min(a.period, 60);
      if (now % every !== 0) continue;
      // The last EvaluationPeriods complete periods before `now`, newest first.
      const end = Math.floor(now / a.period) * a.period;
      const points: Value[] = [];
      for (let k = 1; k <= a.evaluationPeriods; k++) points.push(datapoint(a, end - k * a.period, now));
      const treated = points.map((v) =>
        v !== undefined
          ? v
          : a.treatMissingData === 'breaching'
            ? Number.POSITIVE_INFINITY * (a.comparison.startsWith('Less') ? -1 : 1)
            : a.treatMissingData === 'notBreaching'
              ? undefined
              : undefined,
      );
      const present = points.filter((v) => v !== undefined).length;
      const breaching = treated.filter(
        (v) => v !== undefined && breaches(a.comparison, v, a.threshold),
      ).length;
      const presentOrTreated =
        a.treatMissingData === 'breaching' || a.treatMissingData === 'notBreaching' ? points.length : present;
      const previous = states[a.name]!;
      let next: AlarmState;
      if (breaching >= a.datapointsToAlarm) next = 'ALARM';
      else if (presentOrTreated > 0) next = 'OK';
      else next = a.treatMissingData === 'ignore' ? previous : 'INSUFFICIENT_DATA';
      if (next !== previous) {
        states[a.name] = next;
        transitions.push({ t: now, alarmName: a.name, from: previous, to: next });
        if (next === 'ALARM' && a.topic === 'critical') pages.push({ t: now, source: a.name });
        if (next === 'ALARM' && greenInTraffic && autoRollback?.watched.has(a.name)) {
          if (autoRollback.topic === 'critical') pages.push({ t: now, source: `auto-rollback:${a.name}` });
          greenInTraffic = false;
        }
      }
    }
    for (const c of composites) {
      const next: AlarmState = c.children.some((n) => states[n] === 'ALARM') ? 'ALARM' : 'OK';
      const previous = compositeStates[c.name]!;
      const held = suppression[c.name]!;
      const suppressorInAlarm = c.suppressor !== undefined && states[c.suppressor] === 'ALARM';
      if (next !== previous) {
        compositeStates[c.name] = next;
        transitions.push({ t: now, alarmName: c.name, from: previous, to: next });
        if (next === 'ALARM') {
          held.pendingSince = now;
          held.suppressed = suppressorInAlarm;
          held.leftAt = undefined;
        } else held.pendingSince = undefined;
        if (next === 'ALARM' && greenInTraffic && autoRollback?.watched.has(c.name)) {
          if (autoRollback.topic === 'critical') pages.push({ t: now, source: `auto-rollback:${c.name}` });
          greenInTraffic = false;
        }
      }
      if (compositeStates[c.name] !== 'ALARM' || held.pendingSince === undefined) continue;
      // Pending actions: performed now, suppressed, or performed once the wait or the extension ran out.
      let act = false;
      if (c.suppressor === undefined) act = true;
      else if (!held.suppressed) {
        if (suppressorInAlarm) held.suppressed = true;
        else if (now - held.pendingSince >= c.waitSeconds) act = true;
      } else if (suppressorInAlarm) held.leftAt = undefined;
      else {
        held.leftAt ??= now;
        if (now - held.leftAt >= c.extensionSeconds) act = true;
      }
      if (act) {
        held.pendingSince = undefined;
        if (c.topic === 'critical') pages.push({ t: now, source: c.name });
      }
    }
  }

  const topics = alertTopics(resources);
  for (const e of scenario.rdsEvents ?? []) {
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::RDS::EventSubscription') continue;
      const topic = topics[r.Properties.SnsTopicArn?.Ref];
      const categories: string[] | undefined = r.Properties.EventCategories;
      // No category list means every category.
      if (topic === 'critical' && (categories === undefined || categories.includes(e.category)))
        pages.push({ t: e.t, source: `rds-event:${e.category}` });
    }
  }
  pages.sort((a, b) => a.t - b.t);
  return { pages, transitions, finalStates: states };
}

/** Composite alarms whose rule is an OR of ALARM(...) of metric alarms (the form this app renders). */
function compositeModels(
  resources: Record<string, Json>,
  alarms: readonly ModelAlarm[],
): {
  name: string;
  children: string[];
  topic?: 'critical' | 'warning';
  suppressor?: string;
  waitSeconds: number;
  extensionSeconds: number;
}[] {
  const topics = alertTopics(resources);
  const byId = new Map(alarms.map((a) => [a.logicalId, a.name]));
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm')
    .map((r) => {
      const p = r.Properties;
      const rule = refText(p.AlarmRule);
      if (/\b(AND|NOT)\b/.test(rule)) throw new Error(`composite rule not modelled: ${rule}`);
      const children = [...rule.matchAll(/\{([A-Za-z0-9]+)\.Arn\}/g)].map((m) => byId.get(m[1]!) ?? m[1]!);
      const suppressorId = /^\{([A-Za-z0-9]+)\.Arn\}$/.exec(refText(p.ActionsSuppressor ?? ''))?.[1];
      if (p.ActionsSuppressor !== undefined && (!suppressorId || !byId.has(suppressorId)))
        throw new Error(`actions suppressor not modelled: ${JSON.stringify(p.ActionsSuppressor)}`);
      return {
        name: p.AlarmName,
        children,
        topic: topicOf(p.AlarmActions, topics),
        suppressor: suppressorId ? byId.get(suppressorId) : undefined,
        waitSeconds: Number(p.ActionsSuppressorWaitPeriod ?? 0),
        extensionSeconds: Number(p.ActionsSuppressorExtensionPeriod ?? 0),
      };
    });
}

/** The EventBridge rule that sends alarm state changes to the auto-rollback function, if the template has one. */
export function autoRollbackModel(
  resources: Record<string, Json>,
): { watched: Set<string>; topic?: 'critical' | 'warning' } | undefined {
  const topics = alertTopics(resources);
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::Events::Rule') continue;
    const pattern = r.Properties.EventPattern;
    if (!pattern?.['detail-type']?.includes('CloudWatch Alarm State Change')) continue;
    const names: string[] = (pattern.detail?.alarmName ?? []).map(refText);
    const target = (r.Properties.Targets ?? [])[0];
    const fnId = target?.Arn?.['Fn::GetAtt']?.[0];
    const env = fnId ? resources[fnId]?.Properties?.Environment?.Variables : undefined;
    // The topic the function announces its result on (the warning topic: the trigger alarm is the page).
    const topicRef = (env?.RESULT_TOPIC_ARN ?? env?.CRITICAL_TOPIC_ARN)?.Ref;
    return { watched: new Set(names), topic: topicRef ? topics[topicRef] : undefined };
  }
  return undefined;
}
