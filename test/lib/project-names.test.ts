import {
  alarmName,
  alarmNamePrefix,
  criticalCompositeAlarmName,
  DEPLOYMENT_KEYS,
  ENVIRONMENT_NAMES,
  parameterPath,
  parseAlarmName,
  STATE_KEYS,
} from '../../lib/project';
import { LOCK_KEY, AUDIT_PK } from '../../lambda/shared/shift-audit';
import { PLAN_KEY } from '../../lambda/shared/rollout-control';
import { ROLLOUT_STATE_KEYS } from '../../lib/constructs/progressive-rollout';
import { synthEnvironment } from '../support/app';

/** Every deployment name a construct publishes is the name a reader reads (one registry: lib/project.ts). */
describe('the names registry', () => {
  const prod = synthEnvironment('prod');
  const published = new Set(
    [prod.stateful, prod.guardrails].flatMap((t) =>
      Object.values(t.findResources('AWS::SSM::Parameter')).map(
        (r) => (r as { Properties: { Name: string } }).Properties.Name,
      ),
    ),
  );

  it.each(Object.entries(DEPLOYMENT_KEYS))('%s (%s) is published where the CLIs read it', (_name, key) => {
    expect(published).toContain(parameterPath('prod', ...key.split('/')));
  });

  it("the state keys the writers use are the registry's, and IAM allows exactly those", () => {
    expect(LOCK_KEY).toEqual(STATE_KEYS.lease);
    expect(PLAN_KEY).toEqual(STATE_KEYS.plan);
    expect(AUDIT_PK).toBe(STATE_KEYS.auditPk);
    expect([...ROLLOUT_STATE_KEYS].sort()).toEqual(
      [STATE_KEYS.auditPk, STATE_KEYS.lease.pk, STATE_KEYS.plan.pk, STATE_KEYS.weightsIntent.pk].sort(),
    );
  });
});

type Resource = { Properties: Record<string, unknown> };

/** Every alarm name a template creates (metric and composite). */
function createdAlarmNames(t: ReturnType<typeof synthEnvironment>): string[] {
  return [t.stateful, t.guardrails].flatMap((tpl) =>
    ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'].flatMap((type) =>
      Object.values(tpl.findResources(type)).map((r) => {
        const name = (r as Resource).Properties.AlarmName;
        if (typeof name !== 'string')
          throw new Error(`an alarm without a plain-string name: ${JSON.stringify(name)}`);
        return name;
      }),
    ),
  );
}

/**
 * The value of a published deployment parameter: a plain string, or a `Ref` to an alarm of the same
 * template (CloudFormation resolves it to the alarm's name).
 */
function parameterValue(t: ReturnType<typeof synthEnvironment>, key: string): string {
  const name = parameterPath(t.config.envName, ...key.split('/'));
  const found = Object.values(t.guardrails.findResources('AWS::SSM::Parameter')).find(
    (r) => (r as Resource).Properties.Name === name,
  ) as Resource | undefined;
  const value = found?.Properties.Value;
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  const target =
    typeof ref === 'string' ? (t.guardrails.toJSON().Resources[ref] as Resource | undefined) : undefined;
  const alarm = target?.Properties.AlarmName;
  if (typeof alarm === 'string') return alarm;
  throw new Error(`${name}: neither a plain string nor a Ref to an alarm (${JSON.stringify(value)})`);
}

describe('the alarm-name builder and its inverse', () => {
  it('parses back what it builds, and nothing else', () => {
    expect(alarmName('prod', 'checks', 'rows-lost-games')).toBe(
      'pipeline-guardrails-prod-checks-rows-lost-games',
    );
    expect(parseAlarmName('pipeline-guardrails-prod-checks-rows-lost-games')).toEqual({
      envName: 'prod',
      area: 'checks',
      what: 'rows-lost-games',
    });
    expect(parseAlarmName(criticalCompositeAlarmName('dev'))).toEqual({
      envName: 'dev',
      area: 'critical',
      what: 'any',
    });
    expect(alarmNamePrefix('staging', 'routing')).toBe('pipeline-guardrails-staging-routing-');
    for (const foreign of [
      'other-project-prod-checks-rows-lost',
      'pipeline-guardrails-prod',
      'pipeline-guardrails-prod-checks',
      'pipeline-guardrails-prod-checks-',
      'pipeline-guardrails-prod-checks-Rows-Lost',
      'pipeline-guardrails--checks-rows-lost',
    ])
      expect(parseAlarmName(foreign)).toBeUndefined();
  });

  describe.each(ENVIRONMENT_NAMES)('%s', (envName) => {
    const synth = synthEnvironment(envName);
    const created = createdAlarmNames(synth);

    it('every alarm a construct creates is parsed back by the inverse (environment, area, what)', () => {
      expect(created.length).toBeGreaterThan(20);
      for (const name of created) {
        const parts = parseAlarmName(name);
        expect({ name, envName: parts?.envName }).toEqual({ name, envName });
        expect(alarmName(parts!.envName, parts!.area, parts!.what)).toBe(name);
      }
    });

    it('every alarm name a reader reads is one the constructs create', () => {
      const read = new Map<string, string[]>();
      const add = (reader: string, names: readonly string[]) => read.set(reader, [...names]);
      const list = (v: string) => v.split(',').filter((n) => n.length > 0);
      // The CLIs (shift preflight, bake and status; the plan command): the SSM-published names.
      add('SSM green alarm names', list(parameterValue(synth, DEPLOYMENT_KEYS.greenAlarmNames)));
      add('SSM blue alarm names', list(parameterValue(synth, DEPLOYMENT_KEYS.blueAlarmNames)));
      add('SSM critical composite', [parameterValue(synth, DEPLOYMENT_KEYS.criticalComposite)]);
      // The rollout's gates and bake checks: the function's ALARM_NAMES.
      const rolloutEnv = Object.values(synth.guardrails.findResources('AWS::Lambda::Function'))
        .map(
          (r) => (r as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties,
        )
        .map((p) => p.Environment?.Variables?.ALARM_NAMES)
        .filter((v): v is string => typeof v === 'string');
      expect(rolloutEnv).toHaveLength(1);
      add('rollout ALARM_NAMES', JSON.parse(rolloutEnv[0]!) as string[]);
      // The auto-rollback: its rule's event pattern.
      const patterns = Object.values(synth.guardrails.findResources('AWS::Events::Rule'))
        .map(
          (r) => (r as Resource).Properties.EventPattern as { detail?: { alarmName?: unknown } } | undefined,
        )
        .map((p) => p?.detail?.alarmName)
        .filter((v): v is string[] => Array.isArray(v));
      expect(patterns).toHaveLength(1);
      add('auto-rollback rule', patterns[0]!);

      const createdSet = new Set(created);
      for (const [reader, names] of read) {
        expect({ reader, count: names.length > 0 }).toEqual({ reader, count: true });
        expect({ reader, unknown: names.filter((n) => !createdSet.has(n)) }).toEqual({ reader, unknown: [] });
      }
      expect(read.get('SSM critical composite')).toEqual([criticalCompositeAlarmName(envName)]);
      // The status command lists an environment's routing alarms by the parsed area.
      expect(read.get('SSM green alarm names')!.every((n) => parseAlarmName(n)?.envName === envName)).toBe(
        true,
      );
    });
  });
});
