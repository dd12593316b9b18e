import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  autoRollback,
  configFromEnv,
  type AlarmStateChangeEvent,
  type AutoRollbackContext,
} from '../../../lambda/auto-rollback/handler';
import { runAction, type PlanContext } from '../../../lambda/rollout/handler';
import { rolloutContext } from '../../support/rollout-run';
import { TrafficWorld } from '../../support/traffic-world';

let world: TrafficWorld;
const CRITICAL = 'arn:aws:sns:us-east-1:111111111111:critical';
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
      criticalTopicArn: CRITICAL,
      actor: 'pipeline-guardrails-test-auto-rollback',
    },
    clients: {
      doc: world.doc(),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
      sfn: new SFNClient({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
    },
    // The alarm changed state 1.5 s before the function finished.
    now: () => new Date(world.now + 1500),
    sleep: async () => undefined,
  };
}

function alarmEvent(value = 'ALARM', id = 'event-1'): AlarmStateChangeEvent {
  return {
    id,
    'detail-type': 'CloudWatch Alarm State Change',
    time: new Date(world.now).toISOString(),
    detail: {
      alarmName: world.greenAlarms[0]!,
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
  it('during a plan: marks the plan, sets 100% blue everywhere, stops the execution, closes the plan, releases its lease, audits and pages', async () => {
    await planAtStep2();
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
    expect(world.published.at(-1)?.Subject).toMatch(/AUTO-ROLLBACK to 100% blue/);
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
    });
    const result = await autoRollback(alarmEvent(), ctx());
    expect(result.action).toBe('rolled-back');
    expect(world.intent).toMatchObject({ weights: { blue: 100, green: 0 }, version: 4 });
    expect(world.violations()).toEqual([]);
  });

  it('a duplicate delivery of the same event is a no-op for the audit (one entry per event id)', async () => {
    world.weights = { blue: 90, green: 10 };
    await autoRollback(alarmEvent(), ctx());
    await autoRollback(alarmEvent(), ctx());
    expect(world.audit.filter((a) => a.kind === 'auto-rollback')).toHaveLength(1);
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

  it('keeps traffic blue when the audit and the page fail (each is best effort)', async () => {
    world.weights = { blue: 50, green: 50 };
    world.onCall = (command, index) => {
      if (command === 'sns.Publish' || (command === 'ddb.Put' && world.intent))
        world.fault = { index, kind: 'error' };
    };
    const result = await autoRollback(alarmEvent(), ctx());
    expect(result.action).toBe('rolled-back');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(result.problems.join(' ')).toMatch(/could not page/);
  });

  it('after three failed rule writes with the listener still green it pages FAILED and fails (Lambda retries)', async () => {
    world.weights = { blue: 75, green: 25 };
    world.onCall = (command, index) => {
      if (command === 'elbv2.ModifyRule') world.fault = { index, kind: 'error' };
    };
    await expect(autoRollback(alarmEvent(), ctx())).rejects.toMatchObject({ name: 'AutoRollbackFailed' });
    expect(world.published.at(-1)?.Subject).toMatch(/AUTO-ROLLBACK FAILED, green 25% still in traffic/);
  });

  it('after three failed intent writes with the listener already blue it does NOT page "green still in traffic" (issue 11, item 2)', async () => {
    world.weights = { blue: 100, green: 0 };
    world.onCall = (command, index) => {
      if (command === 'ddb.Put' && !world.intent) world.fault = { index, kind: 'error' };
    };
    await expect(autoRollback(alarmEvent(), ctx())).rejects.toMatchObject({ name: 'AutoRollbackFailed' });
    const subject = world.published.at(-1)?.Subject ?? '';
    expect(subject).toMatch(/incomplete, listener is 100% blue/);
    expect(subject).not.toMatch(/green .* still in traffic/);
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
      CRITICAL_TOPIC_ARN: CRITICAL,
    };
    expect(configFromEnv(env)).toMatchObject({
      target: { ruleArn: 'arn:rule', stateTableName: 'state-table', envName: 'test' },
      stateMachineArn: 'arn:sm',
    });
    const { RULE_ARN: _omit, ...missing } = env;
    expect(() => configFromEnv(missing)).toThrow(/RULE_ARN is required/);
  });
});
