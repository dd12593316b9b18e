import { rawConfig, validateConfig } from '../../../lib/config';
import { autoRollbackTriggers } from '../../../lib/constructs/auto-rollback-triggers';
import { DEFAULT_TRIGGERS, TRIGGER_CLASSES } from '../../../lambda/shared/auto-rollback-policy';

type Raw = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Env = 'dev' | 'staging' | 'prod';

function withAutoRollback(env: Env, value: unknown): Raw {
  const raw = structuredClone(rawConfig(env)) as Raw;
  raw.routing.autoRollback = value;
  return raw;
}

/** A broken `routing.autoRollback`, the expected error, and a fixed twin that passes. */
const CASES: { name: string; env: Env; broken: unknown; fixed: unknown; message: RegExp }[] = [
  {
    name: 'an unknown trigger class (blue is never a trigger)',
    env: 'prod',
    broken: { triggers: ['green-error-rate', 'blue-error-rate'] },
    fixed: { triggers: ['green-error-rate'] },
    message:
      /routing\.autoRollback\.triggers\[1\]: got "blue-error-rate", expected a trigger class: green-error-rate, green-latency, .*parity/,
  },
  {
    name: 'no trigger at all',
    env: 'staging',
    broken: { triggers: [] },
    fixed: { triggers: ['green-error-rate', 'green-no-healthy-target'] },
    message: /routing\.autoRollback\.triggers: got \[\], expected at least one trigger class/,
  },
  {
    name: 'a trigger class twice',
    env: 'dev',
    broken: { triggers: ['rows-lost', 'rows-lost'] },
    fixed: { triggers: ['rows-lost'] },
    message:
      /routing\.autoRollback\.triggers: got \["rows-lost","rows-lost"\], expected each trigger class once/,
  },
  {
    name: 'a negative watch window',
    env: 'prod',
    broken: { watchHours: -1 },
    fixed: { watchHours: 0 },
    message: /routing\.autoRollback\.watchHours: got -1, expected a number of hours from 0 to 168/,
  },
  {
    name: 'a watch window over a week',
    env: 'staging',
    broken: { watchHours: 200 },
    fixed: { watchHours: 168 },
    message:
      /routing\.autoRollback\.watchHours: got 200, expected a number of hours from 0 to 168 \(one week\)/,
  },
  {
    name: 'an unknown field',
    env: 'dev',
    broken: { watch: 24 },
    fixed: { watchHours: 24 },
    message: /routing\.autoRollback: unknown field\(s\) "watch"/,
  },
];

describe('routing.autoRollback config validation', () => {
  describe.each(CASES)('$name ($env)', (c) => {
    it('fails naming the environment, field, value and expectation', () => {
      expect(() => validateConfig(c.env, withAutoRollback(c.env, c.broken))).toThrow(
        new RegExp(`environment "${c.env}"[\\s\\S]*${c.message.source}`),
      );
    });
    it('passes once fixed', () => {
      expect(() => validateConfig(c.env, withAutoRollback(c.env, c.fixed))).not.toThrow();
    });
  });

  it('defaults to every trigger class and a 24 h watch window', () => {
    const raw = structuredClone(rawConfig('prod')) as Raw;
    delete raw.routing.autoRollback;
    const { routing } = validateConfig('prod', raw);
    expect(routing.autoRollback).toEqual({ triggers: [...TRIGGER_CLASSES], watchHours: 24 });
    expect(DEFAULT_TRIGGERS).toEqual(TRIGGER_CLASSES);
  });

  it('prod watches 24 h after an increase, staging 4 h, dev 1 h', () => {
    const hours = (['prod', 'staging', 'dev'] as const).map(
      (e) => validateConfig(e, rawConfig(e)).routing.autoRollback.watchHours,
    );
    expect(hours).toEqual([24, 4, 1]);
  });
});

describe('autoRollbackTriggers: the alarms of each class, by exact name', () => {
  const prod = validateConfig('prod', rawConfig('prod'));
  const p = 'pipeline-guardrails-prod';

  it("prod: green's service levels and target health, each table's loss, floor and schema alarms", () => {
    const t = autoRollbackTriggers(prod);
    const of = (cls: string) => t.filter((x) => x.triggerClass === cls).map((x) => x.alarmName);
    expect(of('green-error-rate')).toEqual([`${p}-routing-green-error-rate`]);
    expect(of('green-latency')).toEqual([`${p}-routing-green-latency-p95`]);
    // prod runs 2 green tasks: the below-desired (warning) healthy-tasks alarm exists.
    expect(of('green-tasks-below-desired')).toEqual([
      `${p}-routing-green-unhealthy-hosts`,
      `${p}-service-green-healthy-tasks-warning`,
    ]);
    expect(of('green-no-healthy-target')).toEqual([`${p}-service-green-healthy-tasks-critical`]);
    // One loss alarm and one schema alarm cover every guarded / tracked table (one page per cause).
    expect(of('rows-lost')).toEqual([`${p}-checks-rows-lost`]);
    expect(of('below-floor')).toContain(`${p}-checks-below-floor-hoopr-play-by-play`);
    expect(of('schema')).toEqual([`${p}-checks-schema-changed`]);
    expect(t.some((x) => /-blue-|-database-|critical-any/.test(x.alarmName))).toBe(false);
    expect(new Set(t.map((x) => x.alarmName)).size).toBe(t.length);
  });

  it('only the configured classes; the one loss alarm counts under either loss rule', () => {
    const raw = structuredClone(rawConfig('prod')) as Raw;
    raw.routing.autoRollback = { triggers: ['green-error-rate', 'append-only'] };
    const t = autoRollbackTriggers(validateConfig('prod', raw));
    expect(t.map((x) => x.triggerClass)).toEqual(['green-error-rate', 'append-only']);
    expect(t[1]?.alarmName).toBe(`${p}-checks-rows-lost`);
    raw.routing.autoRollback = { triggers: ['schema'] };
    expect(autoRollbackTriggers(validateConfig('prod', raw)).map((x) => x.alarmName)).toEqual([
      `${p}-checks-schema-changed`,
    ]);
  });
});
