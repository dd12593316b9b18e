import { autoRollback, configFromEnv, type AlarmStateChangeEvent } from '../../lambda/auto-rollback/handler';
import { loadConfig } from '../../lib/config';
import { synthEnvironment } from '../support/app';
import { TrafficWorld } from '../support/traffic-world';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The automatic rollback as deployed: the synthesized rule's event pattern decides which alarm events reach the
 * function, and the synthesized function's own settings (TRIGGERS, WATCH_HOURS) decide what it does with them.
 */
const template: Json = synthEnvironment(loadConfig('prod')).guardrails.toJSON();
const resources = Object.values(template.Resources as Record<string, Json>);
const rule = resources.find(
  (r) => r.Type === 'AWS::Events::Rule' && r.Properties.Name === 'pipeline-guardrails-prod-auto-rollback',
)!;
const fnId: string = rule.Properties.Targets[0].Arn['Fn::GetAtt'][0];
const fnEnv: Record<string, Json> = template.Resources[fnId].Properties.Environment.Variables;
const alarmNames: string[] = resources
  .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm')
  .map((r) => r.Properties.AlarmName);

/** EventBridge matching for the forms the rule uses: exact-value arrays and nested objects. */
function matches(pattern: Json, event: Json): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    const got = event?.[key];
    if (Array.isArray(want)) {
      if (want.some((w) => typeof w !== 'string')) throw new Error(`pattern form not modelled: ${key}`);
      return want.includes(got);
    }
    return matches(want, got);
  });
}

function event(alarmName: string, at: number, id = `e-${alarmName}`): AlarmStateChangeEvent & Json {
  return {
    id,
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    time: new Date(at).toISOString(),
    detail: { alarmName, state: { value: 'ALARM', timestamp: new Date(at).toISOString() } },
  };
}

describe('the synthesized auto-rollback rule and function (prod)', () => {
  const delivered = alarmNames.filter((n) => matches(rule.Properties.EventPattern, event(n, 0)));
  const world = new TrafficWorld(undefined, 'prod');
  const config = configFromEnv({
    ...Object.fromEntries(Object.entries(fnEnv).filter(([, v]) => typeof v === 'string')),
    STATE_TABLE_NAME: world.tableName,
    LISTENER_ARN: world.listenerArn,
    RULE_ARN: world.ruleArn,
    BLUE_TARGET_GROUP_ARN: world.blueTg,
    GREEN_TARGET_GROUP_ARN: world.greenTg,
    STATE_MACHINE_ARN: world.stateMachineArn,
    RESULT_TOPIC_ARN: world.warningTopicArn,
  });

  it("delivers exactly the function's triggers, each by its own name; never blue, the database or critical-any", () => {
    expect(delivered.sort()).toEqual([...config.triggers.keys()].sort());
    expect(delivered.length).toBeGreaterThanOrEqual(10);
    expect(delivered.filter((n) => /-blue-|-database-|critical-any|heartbeat/.test(n))).toEqual([]);
    for (const must of [
      'routing-green-error-rate',
      'routing-green-latency-p95',
      'service-green-healthy-tasks-critical',
      'service-green-healthy-tasks-warning',
      'checks-rows-lost',
      'checks-below-floor-games',
    ])
      expect(delivered).toContain(`pipeline-guardrails-prod-${must}`);
    // An OK or INSUFFICIENT_DATA transition is not delivered.
    const ok = event('pipeline-guardrails-prod-routing-green-error-rate', 0);
    ok.detail.state.value = 'OK';
    expect(matches(rule.Properties.EventPattern, ok)).toBe(false);
    expect(config.watchHours).toBe(24);
  });

  async function run(alarmName: string, w: TrafficWorld) {
    return autoRollback(event(alarmName, w.now), {
      config: { ...config, target: w.target, stateTableName: w.tableName },
      clients: w.autoRollbackClients(),
      now: () => new Date(w.now),
      sleep: async () => undefined,
    });
  }

  /** prod at 25% green, raised `hoursAgo`. */
  function prodAt25(hoursAgo: number): TrafficWorld {
    const w = new TrafficWorld({ blue: 75, green: 25 }, 'prod');
    w.greenRaised(hoursAgo * 3_600_000);
    return w;
  }

  it.each(['routing-green-error-rate', 'service-green-healthy-tasks-critical', 'checks-rows-lost'])(
    '%s, 2 h after green rose: 100%% blue, result mailed on the warning topic',
    async (what) => {
      const w = prodAt25(2);
      await expect(run(`pipeline-guardrails-prod-${what}`, w)).resolves.toMatchObject({
        action: 'rolled-back',
      });
      expect(w.weights).toEqual({ blue: 100, green: 0 });
      expect(w.published.map((p) => p.TopicArn)).toEqual([w.warningTopicArn]);
    },
  );

  it('the same trigger 25 h after green rose: disarmed, traffic stays', async () => {
    const w = prodAt25(25);
    await expect(run('pipeline-guardrails-prod-routing-green-error-rate', w)).resolves.toMatchObject({
      action: 'disarmed',
    });
    expect(w.weights).toEqual({ blue: 75, green: 25 });
  });

  it.each(['database-cpu-critical', 'routing-blue-error-rate', 'critical-any'])(
    '%s is never delivered, and if it were, the function would not move traffic',
    async (what) => {
      const name = `pipeline-guardrails-prod-${what}`;
      expect(alarmNames).toContain(name);
      expect(delivered).not.toContain(name);
      const w = prodAt25(1);
      await expect(run(name, w)).resolves.toMatchObject({ action: 'not-a-trigger' });
      expect(w.weights).toEqual({ blue: 75, green: 25 });
    },
  );
});
