import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AlarmFactory, type GuardrailAlarmProps } from '../../../lib/constructs/alarm-factory';
import { AlertTopics } from '../../../lib/constructs/alert-topics';
import type { DashboardSection } from '../../../lib/constructs/dashboard-section';
import { EnvironmentDashboard } from '../../../lib/constructs/environment-dashboard';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const PREFIX = 'pipeline-guardrails-test';
const RUNBOOK = 'https://git.example.com/RUNBOOK.md';

const alarmProps = (what: string, severity: 'critical' | 'warning'): GuardrailAlarmProps => ({
  area: 'test',
  what,
  severity,
  metric: new cloudwatch.Metric({ namespace: 'PipelineGuardrails', metricName: what }),
  threshold: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  meaning: `${what} happened.`,
  firstCheck: 'the log',
  runbookAnchor: 'critical-any',
});

const graph = (title: string, width = 12) =>
  new cloudwatch.GraphWidget({
    title,
    left: [new cloudwatch.Metric({ namespace: 'PipelineGuardrails', metricName: title })],
    width,
  });

function setup(sections: readonly (DashboardSection | undefined)[], withComposite = true) {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  const topics = new AlertTopics(stack, 'Topics', {
    config: { criticalSubscriptions: [], warningSubscriptions: [] },
    namePrefix: PREFIX,
    key: new kms.Key(stack, 'Key'),
  });
  const alarms = new AlarmFactory(stack, 'Alarms', { topics, envName: 'test', runbookUrl: RUNBOOK });
  alarms.createAlarm(stack, 'Early', alarmProps('early', 'critical'));
  const composite = withComposite ? alarms.createCriticalComposite(stack, 'Composite') : undefined;
  const dashboard = new EnvironmentDashboard(stack, 'Dashboard', {
    envName: 'test',
    dashboardName: PREFIX,
    runbookUrl: RUNBOOK,
    sections,
    alarms,
    criticalComposite: composite,
  });
  return { stack, alarms, dashboard };
}

/** The dashboard body as JSON; `Fn::GetAtt` references become `<LogicalId>` strings. */
function body(stack: Stack): { widgets: Json[] } {
  const t = Template.fromStack(stack);
  const [d] = Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as Json[];
  const raw = d.Properties.DashboardBody;
  const text =
    typeof raw === 'string'
      ? raw
      : (raw['Fn::Join'][1] as Json[])
          .map((p) => (typeof p === 'string' ? p : p['Fn::GetAtt'] ? `<${p['Fn::GetAtt'][0]}>` : '<token>'))
          .join('');
  return JSON.parse(text);
}

const titleOf = (w: Json): string =>
  w.type === 'text' ? (String(w.properties.markdown).split('\n')[0] ?? '') : w.properties.title;

describe('EnvironmentDashboard', () => {
  it('opens with the environment, the weights source, runbook links and the critical composite', () => {
    const { stack } = setup([]);
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: PREFIX });
    const [header, composite] = body(stack).widgets;
    expect(header.type).toBe('text');
    expect(header.properties.markdown).toContain('**test** environment');
    expect(header.properties.markdown).toContain('weighted listener rule');
    expect(header.properties.markdown).toContain('npm run shift -- --env test --status');
    expect(header.properties.markdown).toContain(`[Runbook](${RUNBOOK})`);
    expect(header.properties.markdown).toContain(`(${RUNBOOK}#commands-you-will-need)`);
    expect(header).toMatchObject({ x: 0, y: 0, width: 16 });
    expect(composite).toMatchObject({ type: 'alarm', x: 16, y: 0, width: 8 });
    expect(composite.properties.alarms).toEqual([expect.stringMatching(/^<Composite/)]);
  });

  it('uses the full width for the header when there is no composite', () => {
    const { stack } = setup([], false);
    expect(body(stack).widgets[0]).toMatchObject({ type: 'text', width: 24 });
  });

  it('lays the sections out in the order given, leaving out absent and empty ones', () => {
    const sections: (DashboardSection | undefined)[] = [
      undefined,
      { title: 'Traffic and service levels', rows: [[graph('blue'), graph('green')]] },
      { title: 'Nothing configured', rows: [[], []] },
      {
        title: 'Database health',
        description: 'Lines are thresholds.',
        rows: [[graph('cpu', 8)], [graph('storage', 24)]],
      },
    ];
    const { stack, dashboard } = setup(sections);
    expect(dashboard.sectionTitles).toEqual(['Traffic and service levels', 'Database health']);
    const titles = body(stack).widgets.map(titleOf);
    expect(titles.slice(2, 9)).toEqual([
      '## Traffic and service levels',
      'blue',
      'green',
      '## Database health',
      'cpu',
      'storage',
      '## Alarm status',
    ]);
    expect(titles.join('|')).not.toContain('Nothing configured');
    const db = body(stack).widgets.find((w) => titleOf(w) === '## Database health');
    expect(db.properties.markdown).toBe('## Database health\nLines are thresholds.');
  });

  it('shows no empty widget', () => {
    const { stack } = setup([{ title: 'A', rows: [[graph('a')]] }]);
    const widgets = body(stack).widgets;
    const contentOf = (w: Json): number =>
      w.type === 'text'
        ? w.properties.markdown.trim().length
        : w.type === 'metric'
          ? w.properties.metrics.length
          : w.properties.alarms.length;
    expect(widgets.filter((w) => contentOf(w) === 0)).toEqual([]);
    expect(new Set(widgets.map((w) => w.type))).toEqual(new Set(['text', 'metric', 'alarm']));
    // Only critical alarms exist: there is no (empty) warning status widget.
    expect(
      body(stack)
        .widgets.filter((w) => w.type === 'alarm')
        .map(titleOf),
    ).toEqual([
      'Anything critical? (composite of every critical alarm; held pages)',
      'Critical (pages): 1 alarm',
    ]);
  });

  it('lists every alarm, critical first, including alarms created after the dashboard', () => {
    const { stack, alarms } = setup([]);
    alarms.createAlarm(stack, 'Late', alarmProps('late', 'critical'));
    alarms.createAlarm(stack, 'Mail', alarmProps('mail', 'warning'));
    const status = body(stack)
      .widgets.filter((w) => w.type === 'alarm')
      .slice(1);
    expect(status.map(titleOf)).toEqual(['Critical (pages): 2 alarms', 'Warning (mail): 1 alarm']);
    expect(status[0].properties.alarms).toEqual([
      expect.stringMatching(/^<Early/),
      expect.stringMatching(/^<Late/),
    ]);
    expect(status[1].properties.alarms).toEqual([expect.stringMatching(/^<Mail/)]);
    // Stacked below each other, each as tall as its list needs.
    expect(status[1].y).toBe(status[0].y + status[0].height);
  });

  it('splits more than 100 alarms of a severity over several status widgets', () => {
    const { stack, alarms } = setup([]);
    for (let i = 0; i < 105; i++) alarms.createAlarm(stack, `W${i}`, alarmProps(`w${i}`, 'warning'));
    const warning = body(stack).widgets.filter((w) => w.type === 'alarm' && /^Warning/.test(titleOf(w)));
    expect(warning.map(titleOf)).toEqual([
      'Warning (mail): 105 alarms (part 1 of 2)',
      'Warning (mail): 105 alarms (part 2 of 2)',
    ]);
    expect(warning.map((w) => w.properties.alarms.length)).toEqual([100, 5]);
  });

  it('warns when a section row is wider than the grid', () => {
    const { stack } = setup([{ title: 'Too wide', rows: [[graph('a', 16), graph('b', 16)]] }]);
    const warnings = Annotations.fromStack(stack).findWarning(
      '/S/Dashboard',
      Match.stringLikeRegexp('Row 1 of section "Too wide" is 32 units wide'),
    );
    expect(warnings).toHaveLength(1);
  });
});
