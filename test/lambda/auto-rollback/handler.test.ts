import {
  autoRollback,
  configFromEnv,
  type AlarmStateChangeEvent,
  type AutoRollbackContext,
} from '../../../lambda/auto-rollback/handler';
import { runAction, type PlanContext } from '../../../lambda/rollout/handler';
import { rolloutContext } from '../../support/rollout-run';
import { TrafficWorld } from '../../support/traffic-world';
import {
  decodeTriggers,
  encodeTriggers,
  TRIGGER_CLASSES,
  type TriggerClass,
} from '../../../lambda/shared/auto-rollback-policy';
import type { Weights } from '../../../lambda/shared/traffic';

let world: TrafficWorld;
const WARNING = 'arn:aws:sns:us-east-1:111111111111:warning';
const PREFIX = 'pipeline-guardrails-test';
/** One alarm of each trigger class (names as the stack's; the world's green alarms for two of them). */
function triggerAlarms(): Record<TriggerClass, string> {
  return {
    'green-error-rate': world.greenAlarms[0]!,
    'green-latency': world.greenAlarms[1]!,
    'green-tasks-below-desired': `${PREFIX}-service-green-healthy-tasks-warning`,
    'green-no-healthy-target': `${PREFIX}-service-green-healthy-tasks-critical`,
    'rows-lost': `${PREFIX}-checks-rows-lost-games`,
    'append-only': `${PREFIX}-checks-rows-lost-play-by-play`,
    'below-floor': `${PREFIX}-checks-below-floor-games`,
    schema: `${PREFIX}-checks-schema-changed-games`,
    parity: `${PREFIX}-parity-differences-games`,
  };
}
const execution = {
  id: 'arn:aws:states:us-east-1:111111111111:execution:pipeline-guardrails-test-rollout:plan-1',
  name: 'plan-1',
};

function ctx(): AutoRollbackContext {
  return {
    config: {
      envName: 'test',
      stateTableName: world.tableName,
      target: world.target,
      stateMachineArn: world.stateMachineArn,
      resultTopicArn: WARNING,
      triggers: new Map(Object.entries(triggerAlarms()).map(([cls, name]) => [name, [cls as TriggerClass]])),
      watchHours: 24,
      actor: 'pipeline-guardrails-test-auto-rollback',
    },
    clients: world.autoRollbackClients(),
    // The alarm changed state 1.5 s before the function finished.
    now: () => new Date(world.now + 1500),
    sleep: async () => undefined,
  };
}

/** Green raised to `weights` `minutesAgo` by a shift that has ended (its intent records greenRaisedAt). */
function greenRaised(weights: Weights, minutesAgo: number): void {
  world.weights = weights;
  world.greenRaised(minutesAgo * 60_000, 2);
}

/** A shift holds the traffic lease (its prompt, snapshot or bake): armed. */
function holdLease(): void {
  world.items.set('shift#lock|lock', {
    pk: 'shift#lock',
    sk: 'lock',
    owner: 'arn:aws:sts::111111111111:assumed-role/Operator/alice',
    purpose: 'shift to 10% green',
    leaseId: 'lease-1',
    version: 1,
    acquiredAt: new Date(world.now - 60_000).toISOString(),
    expiresAt: Math.floor(world.now / 1000) + 120,
  });
}

function alarmEvent(
  value = 'ALARM',
  id = 'event-1',
  alarmName = world.greenAlarms[0]!,
): AlarmStateChangeEvent {
  return {
    id,
    'detail-type': 'CloudWatch Alarm State Change',
    time: new Date(world.now).toISOString(),
    detail: {
      alarmName,
      state: {
        value,
        reason: 'Threshold Crossed: 1 datapoint [4.2] > 1',
        timestamp: new Date(world.now).toISOString(),
      },
      previousState: { value: 'OK' },
    },
  };
}

/** A plan at step 2 (25% green), baking. */
async function planAtStep2(): Promise<PlanContext> {
  const rctx = rolloutContext(world);
  world.executions.set(execution.id, 'RUNNING');
  const request = { steps: [10, 25, 100], bakeSeconds: 600, actor: 'alice' };
  const plan = (await runAction({ action: 'start', state: { request }, execution }, rctx)) as PlanContext;
  await runAction({ action: 'apply', state: { request, plan, cursor: { stepIndex: 0 } } }, rctx);
  await runAction({ action: 'apply', state: { request, plan, cursor: { stepIndex: 1 } } }, rctx);
  return plan;
}

beforeEach(() => {
  world = new TrafficWorld();
});

describe('auto-rollback', () => {
  it('during a plan: marks the plan, sets 100% blue everywhere, stops the execution, closes the plan, releases its lease, audits and mails', async () => {
    await planAtStep2();
    const announcedBefore = world.published.length;
    const result = await autoRollback(alarmEvent(), ctx());
    expect(result).toMatchObject({
      action: 'rolled-back',
      from: { blue: 75, green: 25 },
      alarmToBlueMs: 1500,
    });
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.intent).toMatchObject({
      weights: { blue: 100, green: 0 },
      operationId: 'auto-rollback#event-1',
    });
    expect(world.executions.get(execution.id)).toBe('ABORTED');
    expect(world.plan).toMatchObject({ status: 'rolled-back' });
    expect(world.lease).toBeUndefined();
    expect(world.audit.at(-1)).toMatchObject({ kind: 'auto-rollback', outcome: 'rolled-back' });
    // One page per cause: the trigger alarm paged; the result is mail on the warning topic.
    const mine = world.published.slice(announcedBefore);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ TopicArn: WARNING });
    expect(mine[0]?.Subject).toMatch(/AUTO-ROLLBACK to 100% blue/);
    expect(mine[0]?.Message).toMatch(/Armed: rollout plan plan-1 is (running|aborting)/);
    expect(world.violations()).toEqual([]);
  });

  it('repairs the record of intent even when the listener already reads 100% blue (issue 11, item 2)', async () => {
    world.items.set('routing#weights|current', {
      pk: 'routing#weights',
      sk: 'current',
      weights: { blue: 80, green: 20 },
      version: 3,
      operationId: 'shift#1',
      writer: 'alice',
      at: new Date(world.now).toISOString(),
      greenRaisedAt: new Date(world.now).toISOString(),
    });
    const result = await autoRollback(alarmEvent(), ctx());
    expect(result.action).toBe('rolled-back');
    expect(world.intent).toMatchObject({ weights: { blue: 100, green: 0 }, version: 4 });
    expect(world.violations()).toEqual([]);
  });

  it('a duplicate delivery of the same event is a no-op for the audit (one entry per event id)', async () => {
    greenRaised({ blue: 90, green: 10 }, 30);
    await autoRollback(alarmEvent(), ctx());
    await autoRollback(alarmEvent(), ctx());
    expect(world.audit.filter((a) => a.kind === 'auto-rollback')).toHaveLength(1);
    expect(world.weights).toEqual({ blue: 100, green: 0 });
  });

  it('a second trigger while the first is still in ALARM is its own event: it acts and is audited', async () => {
    greenRaised({ blue: 90, green: 10 }, 30);
    await autoRollback(alarmEvent('ALARM', 'event-1', triggerAlarms()['green-error-rate']), ctx());
    // Someone raises green again while the first alarm stays in ALARM; then green's latency fails.
    world.now += 10 * 60_000;
    greenRaised({ blue: 75, green: 25 }, 1);
    const second = await autoRollback(
      alarmEvent('ALARM', 'event-2', triggerAlarms()['green-latency']),
      ctx(),
    );
    expect(second).toMatchObject({ action: 'rolled-back', from: { blue: 75, green: 25 } });
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.audit.filter((a) => a.kind === 'auto-rollback' && a.outcome === 'rolled-back')).toHaveLength(
      2,
    );
  });

  it('ignores (and audits) a late event about an alarm transition older than the last weight change (issue 12)', async () => {
    const event = alarmEvent(); // the alarm changed state at world.now
    world.now += 5 * 60_000;
    world.weights = { blue: 90, green: 10 };
    world.items.set('routing#weights|current', {
      pk: 'routing#weights',
      sk: 'current',
      weights: { blue: 90, green: 10 },
      version: 1,
      operationId: 'shift#new',
      writer: 'alice',
      at: new Date(world.now - 60_000).toISOString(),
      greenRaisedAt: new Date(world.now - 60_000).toISOString(),
    });
    await expect(autoRollback(event, ctx())).resolves.toMatchObject({ action: 'ignored' });
    expect(world.weights).toEqual({ blue: 90, green: 10 });
    expect(world.audit.at(-1)).toMatchObject({ kind: 'auto-rollback', outcome: 'refused' });
    expect(String(world.audit.at(-1)?.detail)).toMatch(/older than the last weight change .* ignored/);
  });

  it('ignores a state change that is not into ALARM', async () => {
    world.weights = { blue: 90, green: 10 };
    await expect(autoRollback(alarmEvent('OK'), ctx())).resolves.toMatchObject({ action: 'ignored' });
    expect(world.calls).toEqual([]);
  });

  it('keeps traffic blue when the audit and the announcement fail (each is best effort)', async () => {
    greenRaised({ blue: 50, green: 50 }, 5);
    world.onCall = (command, index) => {
      const blueIntent = (world.intent as { weights?: Weights } | undefined)?.weights?.green === 0;
      if (command === 'sns.Publish' || (command === 'ddb.Put' && blueIntent))
        world.fault = { index, kind: 'error' };
    };
    const result = await autoRollback(alarmEvent(), ctx());
    expect(result.action).toBe('rolled-back');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(result.problems.join(' ')).toMatch(/could not announce the result/);
  });

  it('after three failed rule writes with the listener still green it mails FAILED and fails (the failed alarm is the one page)', async () => {
    greenRaised({ blue: 75, green: 25 }, 5);
    world.onCall = (command, index) => {
      if (command === 'elbv2.ModifyRule') world.fault = { index, kind: 'error' };
    };
    await expect(autoRollback(alarmEvent(), ctx())).rejects.toMatchObject({ name: 'AutoRollbackFailed' });
    expect(world.published).toHaveLength(1);
    expect(world.published[0]).toMatchObject({ TopicArn: WARNING });
    expect(world.published[0]?.Subject).toMatch(/AUTO-ROLLBACK FAILED, green 25% still in traffic/);
    expect(world.published[0]?.Message).toMatch(/#auto-rollback-failed/);
  });

  it('after three failed intent writes with the listener already blue it does NOT say "green still in traffic" (issue 11, item 2)', async () => {
    world.weights = { blue: 100, green: 0 };
    holdLease();
    world.onCall = (command, index) => {
      if (command === 'ddb.Put' && !world.intent) world.fault = { index, kind: 'error' };
    };
    await expect(autoRollback(alarmEvent(), ctx())).rejects.toMatchObject({ name: 'AutoRollbackFailed' });
    const subject = world.published.at(-1)?.Subject ?? '';
    expect(subject).toMatch(/incomplete, listener is 100% blue/);
    expect(subject).not.toMatch(/green .* still in traffic/);
  });
});

describe('auto-rollback policy (issue 12): green triggers only, armed only during a cutover', () => {
  it.each(TRIGGER_CLASSES.map((c) => [c]))(
    'a %s trigger while armed (a shift holds the lease) sets 100%% blue and mails the result',
    async (cls) => {
      world.weights = { blue: 90, green: 10 };
      holdLease();
      const result = await autoRollback(alarmEvent('ALARM', `e-${cls}`, triggerAlarms()[cls]), ctx());
      expect(result).toMatchObject({ action: 'rolled-back', arming: { armed: true, because: 'lease-held' } });
      expect(world.weights).toEqual({ blue: 100, green: 0 });
      expect(world.published.map((p) => p.TopicArn)).toEqual([WARNING]);
      expect(world.published[0]?.Message).toContain(`(${cls}) entered ALARM`);
    },
  );

  it.each(TRIGGER_CLASSES.map((c) => [c]))(
    'a %s trigger within the watch window after green rose (no shift running) acts',
    async (cls) => {
      greenRaised({ blue: 50, green: 50 }, 23 * 60);
      const result = await autoRollback(alarmEvent('ALARM', `w-${cls}`, triggerAlarms()[cls]), ctx());
      expect(result).toMatchObject({
        action: 'rolled-back',
        arming: {
          armed: true,
          because: 'watch-window',
          until: new Date(world.now + 3_600_000).toISOString(),
        },
      });
      expect(world.weights).toEqual({ blue: 100, green: 0 });
    },
  );

  it.each(TRIGGER_CLASSES.map((c) => [c]))(
    'a %s trigger after the watch window (no shift or plan) is disarmed: audited, mailed, traffic not moved',
    async (cls) => {
      greenRaised({ blue: 0, green: 100 }, 25 * 60);
      const result = await autoRollback(alarmEvent('ALARM', `d-${cls}`, triggerAlarms()[cls]), ctx());
      expect(result).toMatchObject({ action: 'disarmed', arming: { armed: false, because: 'window-ended' } });
      expect(world.weights).toEqual({ blue: 0, green: 100 });
      expect(world.calls).not.toContain('elbv2.ModifyRule');
      expect(world.audit.at(-1)).toMatchObject({
        kind: 'auto-rollback',
        outcome: 'refused',
        from: { blue: 0, green: 100 },
        to: { blue: 0, green: 100 },
      });
      expect(String(world.audit.at(-1)?.detail)).toMatch(
        /^disarmed: paged, traffic not moved \(green's last increase was at .* window ended at/,
      );
      expect(world.published).toHaveLength(1);
      expect(world.published[0]).toMatchObject({ TopicArn: WARNING });
      expect(world.published[0]?.Subject).toMatch(/auto-rollback DISARMED, traffic not moved/);
      expect(world.published[0]?.Message).toMatch(
        /roll back by hand: npm run shift -- --env test --rollback --yes/,
      );
    },
  );

  it('is disarmed when no increase of green was ever recorded and nothing runs', async () => {
    world.weights = { blue: 80, green: 20 };
    const result = await autoRollback(alarmEvent(), ctx());
    expect(result).toMatchObject({ action: 'disarmed', arming: { because: 'no-increase-recorded' } });
    expect(world.weights).toEqual({ blue: 80, green: 20 });
  });

  it('acts when the arming facts cannot be read (the safe side during an incident)', async () => {
    greenRaised({ blue: 90, green: 10 }, 48 * 60);
    world.onCall = (command, index) => {
      if (command === 'ddb.Get' && index < 4) world.fault = { index, kind: 'error' };
    };
    const result = await autoRollback(alarmEvent(), ctx());
    expect(result).toMatchObject({ action: 'rolled-back', arming: { armed: true, because: 'unknown' } });
    expect(world.weights).toEqual({ blue: 100, green: 0 });
  });

  it.each([
    ["blue's error rate", `${PREFIX}-routing-blue-error-rate`],
    ["blue's healthy tasks", `${PREFIX}-service-blue-healthy-tasks-critical`],
    ['database CPU', `${PREFIX}-database-cpu-critical`],
    ['database free storage', `${PREFIX}-database-free-storage-critical`],
    ['the critical composite', `${PREFIX}-critical-any`],
    ['the checker heartbeat', `${PREFIX}-checks-heartbeat-missing`],
  ])(
    'refuses %s (not a trigger): audited, no traffic move, no message, even while armed',
    async (_what, name) => {
      world.weights = { blue: 50, green: 50 };
      holdLease();
      const result = await autoRollback(alarmEvent('ALARM', 'e-x', name), ctx());
      expect(result.action).toBe('not-a-trigger');
      expect(world.weights).toEqual({ blue: 50, green: 50 });
      expect(world.calls.filter((c) => c.startsWith('elbv2.') || c.startsWith('sfn.'))).toEqual([]);
      expect(world.published).toEqual([]);
      expect(world.audit.at(-1)).toMatchObject({ kind: 'auto-rollback', outcome: 'refused' });
      expect(String(world.audit.at(-1)?.detail)).toMatch(/is not an auto-rollback trigger/);
    },
  );

  it('a duplicate of a disarmed event is audited once', async () => {
    greenRaised({ blue: 0, green: 100 }, 30 * 60);
    await autoRollback(alarmEvent('ALARM', 'dup'), ctx());
    await autoRollback(alarmEvent('ALARM', 'dup'), ctx());
    expect(world.audit.filter((a) => a.kind === 'auto-rollback')).toHaveLength(1);
  });
});

describe('auto-rollback configuration', () => {
  it('reads its settings from the environment and names the missing one', () => {
    const env = {
      ENV_NAME: 'test',
      STATE_TABLE_NAME: 'state-table',
      LISTENER_ARN: 'arn:listener',
      RULE_ARN: 'arn:rule',
      BLUE_TARGET_GROUP_ARN: 'arn:blue',
      GREEN_TARGET_GROUP_ARN: 'arn:green',
      STATE_MACHINE_ARN: 'arn:sm',
      RESULT_TOPIC_ARN: WARNING,
      WATCH_HOURS: '24',
      TRIGGERS: encodeTriggers(PREFIX, [
        { alarmName: `${PREFIX}-routing-green-error-rate`, triggerClass: 'green-error-rate' },
        { alarmName: `${PREFIX}-checks-rows-lost-games`, triggerClass: 'rows-lost' },
      ]),
    };
    const config = configFromEnv(env);
    expect(config).toMatchObject({
      target: { ruleArn: 'arn:rule', stateTableName: 'state-table', envName: 'test' },
      stateMachineArn: 'arn:sm',
      resultTopicArn: WARNING,
      watchHours: 24,
    });
    expect([...config.triggers]).toEqual([
      [`${PREFIX}-routing-green-error-rate`, ['green-error-rate']],
      [`${PREFIX}-checks-rows-lost-games`, ['rows-lost']],
    ]);
    const { RULE_ARN: _omit, ...missing } = env;
    expect(() => configFromEnv(missing)).toThrow(/RULE_ARN is required/);
    expect(() => configFromEnv({ ...env, WATCH_HOURS: 'soon' })).toThrow(
      /WATCH_HOURS: got "soon", expected a number of hours >= 0/,
    );
    expect(() => decodeTriggers(PREFIX, JSON.stringify({ 'blue-error-rate': ['x'] }))).toThrow(
      /"blue-error-rate" is not a trigger class/,
    );
  });
});
