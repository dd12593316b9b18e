/**
 * Cross-cutting alerting rules, checked on every environment's synthesized templates, so they also cover
 * the alarms, topics and subscriptions that other capabilities add:
 * - every alarm is made through the AlarmFactory, named `<project>-<env>-...`, and has an alarm action and
 *   an OK action on the topic its severity names;
 * - every alarm's description links to a heading of docs/RUNBOOK.md that exists;
 * - every alarm is on the environment's dashboard;
 * - the topic and key policies allow exactly CloudWatch alarms, EventBridge and RDS events to publish;
 * - the composite alarm watches every critical alarm and nothing else; RDS events reach the alert topics;
 * - cdk-nag's AwsSolutions pack finds nothing unacknowledged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { ALERT_PUBLISHERS } from '../../lib/constructs/alert-topics';
import { loadConfig } from '../../lib/config';
import { LOSS_ALARM_PERIOD } from '../../lib/constructs/data-checks';
import { ENVIRONMENT_NAMES, parameterPath, resourcePrefix } from '../../lib/project';
import { evaluateExpression, simulate, type Page } from '../support/alarm-simulator';
import { synthEnvironment, type SynthResult } from '../support/app';
import { baseline, causes, override } from '../support/paging-scenarios';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** GitHub/GitLab heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const m = /^#{1,4}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m?.[1]) continue;
    anchors.add(
      m[1]
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .trim()
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}

const RUNBOOK = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'RUNBOOK.md'), 'utf8');
const ANCHORS = headingAnchors(RUNBOOK);

function resourcesOf(template: Template, type: string): [string, Json][] {
  return Object.entries(template.findResources(type));
}

/** Logical ids referenced with Fn::GetAtt anywhere inside a value. */
function getAttIds(value: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => getAttIds(v, out));
  else if (value && typeof value === 'object') {
    if (Array.isArray(value['Fn::GetAtt'])) out.add(value['Fn::GetAtt'][0]);
    Object.values(value).forEach((v) => getAttIds(v, out));
  }
  return out;
}

/** A template string value as text; tokens (imports, references) become `{token}`. */
function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (value && Array.isArray(value['Fn::Join'])) {
    const [sep, parts] = value['Fn::Join'] as [string, Json[]];
    return parts.map(text).join(sep);
  }
  return '{token}';
}

function statementsOf(policyDocument: Json): Json[] {
  return ([] as Json[]).concat(policyDocument.Statement);
}

function servicesOf(statement: Json): string[] {
  return ([] as string[]).concat(statement.Principal?.Service ?? []);
}

/** Synthesizes once per environment; a cdk-nag finding (or any synth error) makes every call throw it. */
function memoSynth(envName: string): () => SynthResult {
  let outcome: { result: SynthResult } | { error: unknown } | undefined;
  return () => {
    if (!outcome) {
      try {
        outcome = { result: synthEnvironment(envName) };
      } catch (error) {
        outcome = { error };
      }
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  };
}

/** One synth per environment for the whole file. */
const SYNTH = Object.fromEntries(ENVIRONMENT_NAMES.map((e) => [e, memoSynth(e)])) as Record<
  string,
  () => SynthResult
>;

describe('runbook anchors', () => {
  it('computes anchors the way the markdown hosts do, ignoring code blocks', () => {
    const anchors = headingAnchors(
      '# Title\n## Commands you will need\n```sh\n## not a heading\n```\n### database-cpu\n',
    );
    expect([...anchors]).toEqual(['title', 'commands-you-will-need', 'database-cpu']);
  });
});

describe.each(ENVIRONMENT_NAMES)('alerting conformance: %s', (envName) => {
  const synth = SYNTH[envName]!;
  const prefix = resourcePrefix(envName);

  function topicId(template: Template, severity: 'critical' | 'warning'): string {
    const [entry] = resourcesOf(template, 'AWS::SNS::Topic').filter(
      ([, r]) => r.Properties.TopicName === `${prefix}-${severity}`,
    );
    if (!entry) throw new Error(`no ${severity} topic in ${envName}`);
    return entry[0];
  }

  it('synthesizes with cdk-nag AwsSolutions and no unacknowledged finding', () => {
    expect(() => synth()).not.toThrow();
  });

  it('makes every alarm through the AlarmFactory, in the guardrails stack, named <project>-<env>-...', () => {
    const { guardrails, stateful, stacks } = synth();
    const alarms = resourcesOf(guardrails, 'AWS::CloudWatch::Alarm');
    expect(resourcesOf(stateful, 'AWS::CloudWatch::Alarm')).toEqual([]);
    expect(alarms.length).toBe(stacks.guardrails.alarms.alarms.length);
    const names = alarms.map(([, a]) => a.Properties.AlarmName as string).sort();
    expect(names).toEqual(stacks.guardrails.alarms.alarms.map((r) => r.alarmName).sort());
    for (const name of names) expect(name.startsWith(`${prefix}-`)).toBe(true);
  });

  it('gives every alarm an alarm action and an OK action on the topic its severity names', () => {
    const { guardrails } = synth();
    const topics = { CRITICAL: topicId(guardrails, 'critical'), WARNING: topicId(guardrails, 'warning') };
    const alarms = resourcesOf(guardrails, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    // A held page: the metric alarm has no actions; its `<name>-page` composite has them, with a suppressor.
    const held = new Map(
      resourcesOf(guardrails, 'AWS::CloudWatch::CompositeAlarm')
        .filter(([, c]) => c.Properties.ActionsSuppressor !== undefined)
        .map(([, c]) => [String(c.Properties.AlarmName).replace(/-page$/, ''), c.Properties]),
    );
    for (const [, alarm] of alarms) {
      const p = alarm.Properties;
      const severity = /^\[(CRITICAL|WARNING)\] /.exec(text(p.AlarmDescription))?.[1] as keyof typeof topics;
      expect({ name: p.AlarmName, severity }).toEqual({ name: p.AlarmName, severity: expect.any(String) });
      const expected = [{ Ref: topics[severity] }];
      // Where the actions are: on the alarm, or (a held page, critical only) on its composite alone.
      const page = held.get(p.AlarmName);
      const carrier = page ?? p;
      expect({
        name: p.AlarmName,
        alarm: carrier.AlarmActions,
        ok: carrier.OKActions,
        own: page ? [p.AlarmActions, p.OKActions, severity] : 'actions',
      }).toEqual({
        name: p.AlarmName,
        alarm: expected,
        ok: expected,
        own: page ? [undefined, undefined, 'CRITICAL'] : 'actions',
      });
      expect(p.ActionsEnabled).not.toBe(false);
      expect(p.TreatMissingData).toMatch(/^(breaching|notBreaching|ignore|missing)$/);
    }
  });

  it('links every alarm (and the composite) to a runbook heading that exists', () => {
    const { guardrails, config } = synth();
    const described = [
      ...resourcesOf(guardrails, 'AWS::CloudWatch::Alarm'),
      ...resourcesOf(guardrails, 'AWS::CloudWatch::CompositeAlarm'),
    ];
    const broken: string[] = [];
    for (const [, alarm] of described) {
      const p = alarm.Properties;
      const link = /\nRunbook: (\S+)#([^\s#]+)$/.exec(text(p.AlarmDescription));
      if (!link || link[1] !== config.alerting.runbookUrl || !ANCHORS.has(link[2] ?? ''))
        broken.push(`${p.AlarmName} -> ${link ? `#${link[2]}` : 'no runbook link'}`);
    }
    expect(broken).toEqual([]);
  });

  it('shows every alarm and the composite on the environment dashboard', () => {
    const { guardrails } = synth();
    const dashboards = resourcesOf(guardrails, 'AWS::CloudWatch::Dashboard');
    expect(dashboards.map(([, d]) => d.Properties.DashboardName)).toEqual([prefix]);
    const onDashboard = getAttIds(dashboards[0]?.[1].Properties.DashboardBody);
    const missing = [
      ...resourcesOf(guardrails, 'AWS::CloudWatch::Alarm'),
      ...resourcesOf(guardrails, 'AWS::CloudWatch::CompositeAlarm'),
    ]
      .filter(([id]) => !onDashboard.has(id))
      .map(([, a]) => a.Properties.AlarmName);
    expect(missing).toEqual([]);
  });

  it('has one critical-any composite alarm, without actions, watching exactly the critical alarms', () => {
    const { guardrails } = synth();
    const composites = resourcesOf(guardrails, 'AWS::CloudWatch::CompositeAlarm').filter(
      ([, c]) => c.Properties.ActionsSuppressor === undefined,
    );
    expect(composites).toHaveLength(1);
    const [compositeId, composite] = composites[0]!;
    expect(composite.Properties.AlarmName).toBe(`${prefix}-critical-any`);
    expect(composite.Properties.AlarmActions).toBeUndefined();
    expect(composite.Properties.OKActions).toBeUndefined();
    const watched = getAttIds(composite.Properties.AlarmRule);
    const critical = resourcesOf(guardrails, 'AWS::CloudWatch::Alarm')
      .filter(([, a]) => text(a.Properties.AlarmDescription).startsWith('[CRITICAL]'))
      .map(([id]) => id);
    expect([...watched].sort()).toEqual(critical.sort());
    guardrails.hasResourceProperties('AWS::SSM::Parameter', {
      Name: parameterPath(envName, 'alerting', 'critical-composite-alarm-name'),
      Value: { Ref: compositeId },
    });
  });

  it('lets exactly CloudWatch alarms and RDS events publish to the alert topics, over TLS only', () => {
    const { guardrails, config } = synth();
    for (const severity of ['critical', 'warning'] as const) {
      const id = topicId(guardrails, severity);
      expect(guardrails.toJSON().Resources[id].Properties.KmsMasterKeyId).toBeDefined();
      const policies = resourcesOf(guardrails, 'AWS::SNS::TopicPolicy').filter(([, p]) =>
        p.Properties.Topics.some((t: Json) => t.Ref === id),
      );
      expect(policies).toHaveLength(1);
      const statements = statementsOf(policies[0]![1].Properties.PolicyDocument);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: '*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
      const allows = statements.filter((s) => s.Effect === 'Allow');
      expect(allows.flatMap(servicesOf).sort()).toEqual([...ALERT_PUBLISHERS].sort());
      for (const s of allows) {
        expect(s.Principal).toEqual({ Service: expect.any(String) });
        expect(s.Action).toBe('sns:Publish');
        expect(s.Condition.StringEquals).toEqual({ 'aws:SourceAccount': config.account });
        expect(s.Condition.ArnLike['aws:SourceArn'].length).toBeGreaterThan(0);
      }
    }
  });

  it('lets exactly the same publishers use the alerting key, conditioned where the service supports it', () => {
    const { stateful, config } = synth();
    const [alias] = resourcesOf(stateful, 'AWS::KMS::Alias').filter(
      ([, a]) => a.Properties.AliasName === `alias/${prefix}-alerting`,
    );
    const keyId = alias?.[1].Properties.TargetKeyId['Fn::GetAtt'][0];
    const key = stateful.toJSON().Resources[keyId];
    const allows = statementsOf(key.Properties.KeyPolicy).filter((s) => s.Effect === 'Allow');
    const services = allows.filter((s) => s.Principal.Service);
    const others = allows.filter((s) => !s.Principal.Service);
    expect(services.flatMap(servicesOf).sort()).toEqual([...ALERT_PUBLISHERS].sort());
    for (const s of services) expect([...s.Action].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    const bySvc = (svc: string) => services.find((s) => servicesOf(s).includes(svc));
    expect(bySvc('cloudwatch.amazonaws.com').Condition.StringEquals).toEqual({
      'aws:SourceAccount': config.account,
    });
    expect(bySvc('events.rds.amazonaws.com').Condition.StringEquals).toEqual({
      'aws:SourceAccount': config.account,
    });
    // The only other allow is the account's own administration of the key (IAM policies decide who).
    expect(others).toHaveLength(1);
    expect(JSON.stringify(others[0].Principal.AWS)).toContain(`:iam::${config.account}:root`);
  });

  it('sends RDS events of the instance to the alert topics, each category once', () => {
    const { guardrails, stacks } = synth();
    const topicRefs = [topicId(guardrails, 'critical'), topicId(guardrails, 'warning')];
    const subscriptions = resourcesOf(guardrails, 'AWS::RDS::EventSubscription');
    expect(subscriptions.length).toBeGreaterThanOrEqual(2);
    for (const [, sub] of subscriptions) {
      const p = sub.Properties;
      expect(topicRefs).toContain(p.SnsTopicArn.Ref);
      expect(p.SubscriptionName.startsWith(`${prefix}-`)).toBe(true);
      expect(p.Enabled).not.toBe(false);
    }
    const instanceSubs = subscriptions.filter(([, s]) => s.Properties.SourceType === 'db-instance');
    const instance = stacks.guardrails.resolve(stacks.guardrails.databaseHealth.instanceIdentifier);
    for (const [, sub] of instanceSubs) expect(sub.Properties.SourceIds).toEqual([instance]);
    const seen = instanceSubs.flatMap(([, s]) => s.Properties.EventCategories ?? []);
    expect(seen).toEqual(expect.arrayContaining(['failover', 'failure', 'low storage', 'maintenance']));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('prod review dashboard', () => {
  const synth = SYNTH.prod!;

  /** The dashboard body with references replaced by placeholders, parsed. */
  function widgets(): Json[] {
    const [dashboard] = resourcesOf(synth().guardrails, 'AWS::CloudWatch::Dashboard');
    return JSON.parse(text(dashboard?.[1].Properties.DashboardBody)).widgets;
  }

  it('shows the sections in review order: traffic, data integrity, freshness, snapshots, database, alarms', () => {
    const headings = widgets()
      .filter((w) => w.type === 'text' && /^## /.test(w.properties.markdown))
      .map((w): string => String(w.properties.markdown).split('\n')[0] ?? '');
    const position = (pattern: RegExp) => headings.findIndex((h) => pattern.test(h));
    const order = [
      /routing/i,
      /data integrity/i,
      /freshness/i,
      /snapshots/i,
      /database health/i,
      /alarm status/i,
    ].map(position);
    expect(order).not.toContain(-1);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(headings[headings.length - 1]).toBe('## Alarm status');
  });

  it('draws the service-level lines: error rate 1%, processing time 7.0 s, throughput 500 per hour', () => {
    const lines = widgets().flatMap((w) =>
      w.type === 'metric' ? (w.properties.annotations?.horizontal ?? []).map((a: Json) => a.value) : [],
    );
    expect(lines).toEqual(expect.arrayContaining([1, 7, 500]));
  });
});

/**
 * Pages that other issues own and this policy cannot remove from here: none any more. Blue's error-rate page is
 * held while the database is unreachable (one page: the heartbeat), and the automatic rollback's result is mail
 * (one page: green's trigger alarm). Kept as the one place to list such a page, counted and shown, never hidden.
 */
const OWNED_ELSEWHERE: readonly RegExp[] = [];
const ownedElsewhere = (p: Page) => OWNED_ELSEWHERE.some((r) => r.test(p.source));

describe('the alarm simulator', () => {
  it('evaluates the metric math this app renders, with missing values', () => {
    const rate = 'IF(r > 0, 100 * (FILL(e, 0) + FILL(c, 0)) / r, 0)';
    expect(evaluateExpression(rate, { r: 10, e: 1, c: undefined })).toBe(10);
    expect(evaluateExpression(rate, { r: 0, e: undefined, c: undefined })).toBe(0);
    expect(evaluateExpression(rate, { r: undefined, e: 1, c: 1 })).toBeUndefined();
    expect(evaluateExpression(`m / ${1024 ** 3}`, { m: 2 * 1024 ** 3 })).toBe(2);
    expect(() => evaluateExpression('ANOMALY_DETECTION_BAND(m)', { m: 1 })).toThrow(/not modelled/);
  });

  const alarm = (treatMissingData: string) => ({
    Resources: {
      Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'x-critical' } },
      A: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: 'a',
          Namespace: 'N',
          MetricName: 'M',
          Statistic: 'Maximum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: treatMissingData,
          AlarmActions: [{ Ref: 'Topic' }],
        },
      },
    },
  });
  // Breaching at minutes 1-2, a gap at 3-5, breaching again at 6.
  const gap = { series: () => [1, 2, 6].map((m) => ({ t: m * 60 + 5, value: 1 })) };

  /** Target T (no actions), holder H (no actions), composite T-page = ALARM(T) with H as its suppressor. */
  const held = (wait: number, extension: number) => {
    const metricAlarm = (name: string, metric: string) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: name,
        Namespace: 'N',
        MetricName: metric,
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    });
    return {
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'x-critical' } },
        T: metricAlarm('t', 'Target'),
        H: metricAlarm('h', 'Holder'),
        P: {
          Type: 'AWS::CloudWatch::CompositeAlarm',
          Properties: {
            AlarmName: 't-page',
            AlarmRule: { 'Fn::Join': ['', ['ALARM("', { 'Fn::GetAtt': ['T', 'Arn'] }, '")']] },
            AlarmActions: [{ Ref: 'Topic' }],
            ActionsSuppressor: { 'Fn::GetAtt': ['H', 'Arn'] },
            ActionsSuppressorWaitPeriod: wait,
            ActionsSuppressorExtensionPeriod: extension,
          },
        },
      },
    };
  };
  /** Target breaching in minutes [from, to), holder in [hFrom, hTo). */
  const minutes = (from: number, to: number) => (t: number) => t >= from * 60 && t < to * 60;
  const scenario = (target: (t: number) => boolean, holder: (t: number) => boolean) => ({
    series: (m: { name: string }) => {
      const on = m.name === 'Target' ? target : holder;
      return Array.from({ length: 60 }, (_, i) => ({ t: i * 60 + 5, value: on(i * 60 + 5) ? 1 : 0 }));
    },
  });

  it('holds a page while the suppressor is in ALARM, or enters it within the wait period', () => {
    const already = simulate(held(120, 300), scenario(minutes(5, 30), minutes(3, 40)), {
      horizonSeconds: 3000,
    });
    expect(already.pages).toEqual([]);
    const within = simulate(held(180, 300), scenario(minutes(5, 30), minutes(7, 40)), {
      horizonSeconds: 3000,
    });
    expect(within.pages).toEqual([]);
  });

  it('pages after the wait period when the suppressor stays OK, and after the extension once it leaves ALARM', () => {
    const never = simulate(
      held(120, 300),
      scenario(minutes(5, 30), () => false),
      { horizonSeconds: 3000 },
    );
    // The target enters ALARM at 6:00 (the minute from 5:00 is complete), the page waits 120 s.
    expect(never.pages).toEqual([{ t: 480, source: 't-page' }]);
    const outlives = simulate(held(120, 300), scenario(minutes(5, 30), minutes(3, 10)), {
      horizonSeconds: 3000,
    });
    // The holder leaves ALARM at 11:00; the target is still in ALARM 300 s later.
    expect(outlives.pages).toEqual([{ t: 960, source: 't-page' }]);
    const recovers = simulate(held(120, 300), scenario(minutes(5, 12), minutes(3, 10)), {
      horizonSeconds: 3000,
    });
    expect(recovers.pages).toEqual([]);
  });

  it('keeps the state through a gap with ignore, and resolves and pages again with notBreaching', () => {
    const ignore = simulate(alarm('ignore'), gap, { horizonSeconds: 480 });
    expect(ignore.pages).toHaveLength(1);
    const notBreaching = simulate(alarm('notBreaching'), gap, { horizonSeconds: 480 });
    expect(notBreaching.pages).toHaveLength(2);
  });
});

describe.each(ENVIRONMENT_NAMES)('one page per cause: %s', (envName) => {
  const synth = SYNTH[envName]!;
  const config = loadConfig(envName);
  const horizon = 4 * 3600;
  const t0 = 3600;
  const template = () => synth().guardrails.toJSON();
  const prefix = resourcePrefix(envName);

  it('raises no alarm at all in a healthy environment (every watched metric has a baseline)', () => {
    const result = simulate(
      template(),
      { series: baseline(config, { horizon }) },
      { horizonSeconds: horizon },
    );
    expect(result.transitions.filter((t) => t.to === 'ALARM')).toEqual([]);
    expect(result.pages).toEqual([]);
  });

  it.each(causes(config, horizon, t0).map((c) => [c.name, c] as const))(
    '%s: pages at least once and at most once outside the pages owned elsewhere',
    (_name, cause) => {
      const { pages, transitions } = simulate(template(), cause.scenario, { horizonSeconds: horizon });
      expect(pages.length).toBeGreaterThanOrEqual(1);
      const own = pages.filter((p) => !ownedElsewhere(p));
      expect({ cause: cause.name, pages: own.map((p) => p.source) }).toEqual({
        cause: cause.name,
        pages: own.length <= 1 ? own.map((p) => p.source) : ['at most one page'],
      });
      // No flapping: nothing that paged returned to OK and paged again.
      for (const p of pages.filter((x) => !x.source.includes(':'))) {
        const entries = transitions.filter((t) => t.alarmName === p.source && t.to === 'ALARM');
        expect({ alarm: p.source, entries: entries.length }).toEqual({ alarm: p.source, entries: 1 });
      }
    },
  );

  it('keeps a loss in ALARM through runs that could not look, and pages for it once', () => {
    const gap = causes(config, horizon, t0).find((c) => c.name.includes('cannot look'))!;
    const { pages, transitions, finalStates } = simulate(template(), gap.scenario, {
      horizonSeconds: horizon,
    });
    const rowsLost = `${prefix}-checks-rows-lost`;
    expect(pages.map((p) => p.source)).toEqual([rowsLost]);
    expect(transitions.filter((t) => t.alarmName === rowsLost).map((t) => t.to)).toEqual(['OK', 'ALARM']);
    expect(finalStates[rowsLost]).toBe('ALARM');
  });
});

describe('prod: which alarm pages for each cause', () => {
  const config = loadConfig('prod');
  const horizon = 4 * 3600;
  const t0 = 3600;
  const sources = (name: string) => {
    const cause = causes(config, horizon, t0).find((c) => c.name.startsWith(name))!;
    return simulate(SYNTH.prod!().guardrails.toJSON(), cause.scenario, { horizonSeconds: horizon }).pages.map(
      (p) => p.source,
    );
  };

  it('matches the table in docs/RUNBOOK.md', () => {
    expect(sources('a delete of')).toEqual(['pipeline-guardrails-prod-checks-rows-lost']);
    expect(sources('the database is down')).toEqual(['pipeline-guardrails-prod-checks-heartbeat-missing']);
    expect(sources('storage fills up')).toEqual(['pipeline-guardrails-prod-database-free-storage-critical']);
    expect(sources('the checker is dead')).toEqual(['pipeline-guardrails-prod-checks-heartbeat-missing']);
    // One page: the trigger alarm. The automatic rollback's result is mail (warning topic).
    expect(sources('green answers 5xx')).toEqual(['pipeline-guardrails-prod-routing-green-error-rate']);
  });
});

describe('prod: time from a committed loss to the page', () => {
  const config = loadConfig('prod');
  const schedule = config.checks.scheduleMinutes * 60;

  /**
   * Worst case: the loss commits just after a run started (that run cannot see it); the next run starts one
   * schedule later, publishes after `runSeconds`; the datapoint is visible `ingestSeconds` later and the next
   * 10-second evaluation of the high-resolution alarm pages.
   */
  function secondsToPage(runSeconds: number, ingestSeconds: number): number {
    const horizon = 2 * 3600;
    const runStart = 3600;
    const committed = runStart + 1;
    // The per-run RowsLost (no Table dimension): what the one loss alarm reads.
    const series = override(baseline(config, { horizon, runSeconds }), runStart + schedule, (m, s) =>
      m.namespace === 'PipelineGuardrails' && m.dims.Table === undefined && m.name === 'RowsLost'
        ? s.map((x) => ({ ...x, value: 5 }))
        : undefined,
    );
    const { pages } = simulate(
      SYNTH.prod!().guardrails.toJSON(),
      { series },
      {
        horizonSeconds: horizon,
        ingestSeconds,
      },
    );
    expect(pages.map((p) => p.source)).toEqual(['pipeline-guardrails-prod-checks-rows-lost']);
    return pages[0]!.t - committed;
  }

  it('is at most 2 minutes while a run publishes within 40 s (schedule + run + ingestion + one 10 s period)', () => {
    expect(LOSS_ALARM_PERIOD.toSeconds()).toBe(10);
    const formula = (run: number, ingest: number) =>
      schedule - 1 + run + ingest + LOSS_ALARM_PERIOD.toSeconds();
    for (const [run, ingest] of [
      [5, 5],
      [20, 10],
      [40, 10],
    ] as const) {
      const t = secondsToPage(run, ingest);
      expect(t).toBeLessThanOrEqual(formula(run, ingest));
      expect(t).toBeLessThanOrEqual(120);
    }
    // A run that takes its whole 60 s timeout misses the target: the README states the bound.
    expect(secondsToPage(55, 10)).toBeGreaterThan(120);
  });
});
