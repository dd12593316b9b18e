/**
 * The guardrails' monthly cost, from each environment's synthesized templates (bench/cost-model.ts): prod and
 * staging stay within $25 at list prices, and every custom metric series a function publishes is read by an
 * alarm or a dashboard graph (a series nothing reads costs $0.30 a month for nothing).
 */
import { synthTemplates } from '../../bench/cost';
import {
  costReport,
  customMetricPublishers,
  hoursWithData,
  intervalMinutes,
  TARGET_USD_PER_MONTH,
  templateText,
} from '../../bench/cost-model';
import { ENVIRONMENT_NAMES, METRIC_NAMESPACE } from '../../lib/project';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const SYNTH = Object.fromEntries(ENVIRONMENT_NAMES.map((e) => [e, synthTemplates(e)]));

/** `MetricName Dim=Value,...` of every custom metric an alarm or a dashboard widget of the templates reads. */
function seriesRead(templates: readonly Json[]): Set<string> {
  const read = new Set<string>();
  const key = (name: string, dims: [string, string][]) =>
    `${name} ${dims
      .sort(([a], [b]) => (a === 'Environment' ? -1 : b === 'Environment' ? 1 : a.localeCompare(b)))
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}`;
  for (const t of templates)
    for (const r of Object.values<Json>(t.Resources ?? {})) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::CloudWatch::Alarm') {
        const stats = p.Metrics
          ? (p.Metrics as Json[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric)
          : [p];
        for (const m of stats)
          if (m.Namespace === METRIC_NAMESPACE)
            read.add(
              key(
                m.MetricName,
                (m.Dimensions ?? []).map((d: Json) => [d.Name, templateText(d.Value)] as [string, string]),
              ),
            );
      }
      if (r.Type === 'AWS::CloudWatch::Dashboard') {
        for (const w of JSON.parse(templateText(p.DashboardBody)).widgets as Json[])
          for (const m of (w.properties?.metrics ?? []) as Json[][]) {
            const [namespace, name, ...rest] = m.filter((x) => typeof x === 'string') as string[];
            if (namespace !== METRIC_NAMESPACE) continue;
            const dims: [string, string][] = [];
            for (let i = 0; i + 1 < rest.length; i += 2) dims.push([rest[i]!, rest[i + 1]!]);
            read.add(key(name!, dims));
          }
      }
    }
  return read;
}

describe('cost model helpers', () => {
  it('reads the schedule expressions this app renders, and refuses others', () => {
    expect(intervalMinutes('rate(1 minute)')).toBe(1);
    expect(intervalMinutes('rate(6 hours)')).toBe(360);
    expect(intervalMinutes('rate(1 day)')).toBe(1440);
    expect(intervalMinutes('cron(0 5 ? * SUN *)')).toBe(7 * 1440);
    expect(intervalMinutes('cron(0 5 1 * ? *)')).toBeCloseTo(30.4 * 1440);
    expect(intervalMinutes('cron(0 4 * * ? *)')).toBe(1440);
    expect(() => intervalMinutes('at(2026-01-01T00:00:00)')).toThrow(/not understood/);
  });

  it('prices a series by the hours in which it receives data', () => {
    expect(hoursWithData(15)).toBe(730);
    expect(hoursWithData(60)).toBe(730);
    expect(hoursWithData(240)).toBe(182.5);
  });
});

describe.each(ENVIRONMENT_NAMES)('cost of %s', (envName) => {
  const { config, templates } = SYNTH[envName]!;

  it('publishes no custom metric series that no alarm or graph reads', () => {
    const read = seriesRead(templates);
    const unread = customMetricPublishers(config, templates)
      .flatMap((p) => p.series)
      .filter((s) => !read.has(s));
    expect(unread).toEqual([]);
    // It would see one: the quota share the snapshot function used to publish is read by nothing.
    expect(read.has(`ManualSnapshotQuotaUsedPercent Environment=${envName},Region=${config.region}`)).toBe(
      false,
    );
    expect(read.has(`Heartbeat Environment=${envName}`)).toBe(true);
  });

  it('counts every function, state machine, key and alarm of the templates', () => {
    const { lines } = costReport(config, templates);
    const count = (type: string) =>
      templates.flatMap((t) => Object.values<Json>(t.Resources).filter((r) => r.Type === type)).length;
    expect(lines.filter((l) => l.item.startsWith('Lambda '))).toHaveLength(count('AWS::Lambda::Function'));
    expect(lines.filter((l) => l.item.startsWith('Step Functions '))).toHaveLength(
      count('AWS::StepFunctions::StateMachine'),
    );
    const alarms = lines.find((l) => l.item.startsWith('CloudWatch alarms, standard'))!;
    expect(alarms.how).toContain(`by ${count('AWS::CloudWatch::Alarm')} alarms`);
    for (const l of lines) expect(Number.isFinite(l.usd) && l.usd >= 0).toBe(true);
  });
});

describe.each(['prod', 'staging'])('%s within the fixed-cost target', (envName) => {
  it(`costs at most $${TARGET_USD_PER_MONTH} a month at list prices`, () => {
    const { config, templates } = SYNTH[envName]!;
    const { total } = costReport(config, templates);
    expect(total).toBeGreaterThan(10);
    expect(total).toBeLessThanOrEqual(TARGET_USD_PER_MONTH);
  });

  it('would fail with 100 more single-metric alarms ($10)', () => {
    const { config, templates } = SYNTH[envName]!;
    const extra = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [
        `Extra${i}`,
        { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'M', Namespace: 'N', Period: 60 } },
      ]),
    );
    const more = [...templates, { Resources: extra }];
    expect(costReport(config, more).total - costReport(config, templates).total).toBeCloseTo(10);
    expect(costReport(config, more).total).toBeGreaterThan(TARGET_USD_PER_MONTH);
  });
});
