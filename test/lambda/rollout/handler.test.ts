import {
  configFromEnv,
  runAction,
  stepOperationId,
  type PlanContext,
  type RolloutState,
  type StepStatus,
} from '../../../lambda/rollout/handler';
import { acquireLease } from '../../../lambda/shared/shift-audit';
import { rolloutContext } from '../../support/rollout-run';
import { TrafficWorld } from '../../support/traffic-world';

/**
 * The rollout task function, one action at a time, against the in-memory world (real compare-and-set
 * semantics of the lease, the plan item and the record of intent). The whole machine runs in
 * state-machine-flow.test.ts; faults at every call in rollout-fault-matrix.test.ts.
 */
let world: TrafficWorld;
const request = {
  steps: [10, 25, 50, 100],
  bakeSeconds: 900,
  actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice',
};
const execution = {
  id: 'arn:aws:states:us-east-1:111111111111:execution:pipeline-guardrails-test-rollout:plan-1',
  name: 'plan-1',
};
const ctx = () => rolloutContext(world);

async function started(): Promise<PlanContext> {
  world.executions.set(execution.id, 'RUNNING');
  return (await runAction({ action: 'start', state: { request }, execution }, ctx())) as PlanContext;
}
function state(plan: PlanContext, extra: Partial<RolloutState> = {}): RolloutState {
  return { request, plan, cursor: { stepIndex: 0 }, ...extra };
}

beforeEach(() => {
  world = new TrafficWorld();
});

describe('start', () => {
  it('takes a short lease for the plan (its id is the plan id), reads the weights and writes the plan item', async () => {
    const plan = await started();
    expect(plan).toMatchObject({
      planId: 'plan-1',
      from: { blue: 100, green: 0 },
      leaseId: 'plan-1',
      leaseTtlSeconds: 300,
    });
    expect(world.lease).toMatchObject({ owner: 'plan:plan-1', leaseId: 'plan-1' });
    expect(world.plan).toMatchObject({ status: 'running', stepIndex: -1 });
    // A retried start (Step Functions Retry after a lost response) gets the same lease back.
    await expect(started()).resolves.toMatchObject({ leaseId: 'plan-1' });
  });

  it('fails with LockHeldError while a manual shift holds the lease, traffic untouched', async () => {
    await acquireLease(world.doc(), world.tableName, 'alice', 'shift', 120, () => new Date(world.now));
    await expect(started()).rejects.toMatchObject({ name: 'LockHeldError' });
    expect(world.changes).toEqual([]);
  });

  it('rejects an invalid plan before any AWS call', async () => {
    await expect(
      runAction({ action: 'start', state: { request: { ...request, steps: [50, 25] } }, execution }, ctx()),
    ).rejects.toMatchObject({
      name: 'InvalidPlan',
      message: expect.stringContaining('above the one before'),
    });
    expect(world.calls).toEqual([]);
  });
});

describe('gate', () => {
  it('opens when all is well, and renews the lease', async () => {
    const plan = await started();
    const before = world.lease!.version as number;
    await expect(runAction({ action: 'gate', state: state(plan) }, ctx())).resolves.toMatchObject({
      alarmStates: { [world.composite]: 'OK' },
    });
    expect(world.lease!.version).toBe(before + 1);
  });

  it.each([
    ['a green alarm', (w: TrafficWorld) => w.alarms.set(w.greenAlarms[0]!, 'ALARM'), /is in ALARM/],
    ['critical-any', (w: TrafficWorld) => w.alarms.set(w.composite, 'ALARM'), /critical-any is in ALARM/],
    [
      'green without a healthy target',
      (w: TrafficWorld) => (w.health.green = ['unhealthy']),
      /no healthy target/,
    ],
    ['dirty data checks', (w: TrafficWorld) => w.setChecks('violation'), /data checks/],
  ])('closes on %s', async (_what, close, message) => {
    const plan = await started();
    close(world);
    await expect(runAction({ action: 'gate', state: state(plan) }, ctx())).rejects.toMatchObject({
      name: 'GateClosed',
      message: expect.stringMatching(message),
    });
  });

  it('ignores only the alarms the operator forced past', async () => {
    const plan = { ...(await started()), forcedAlarms: [world.greenAlarms[0]!] };
    world.alarms.set(world.greenAlarms[0]!, 'ALARM');
    await expect(runAction({ action: 'gate', state: state(plan) }, ctx())).resolves.toBeDefined();
    world.alarms.set(world.greenAlarms[1]!, 'ALARM');
    await expect(runAction({ action: 'gate', state: state(plan) }, ctx())).rejects.toMatchObject({
      name: 'GateClosed',
    });
  });

  it('fails with PlanAborted when the lease was taken from the plan', async () => {
    const plan = await started();
    world.items.delete('shift#lock|lock');
    await expect(runAction({ action: 'gate', state: state(plan) }, ctx())).rejects.toMatchObject({
      name: 'PlanAborted',
      message: expect.stringContaining('no longer held'),
    });
  });
});

describe('pre-shift snapshot', () => {
  it('creates the snapshot without waiting, then reports it available', async () => {
    const plan = await started();
    const snap = (await runAction({ action: 'snapshot-start', state: state(plan) }, ctx())) as {
      snapshotId: string;
    };
    expect(snap).toMatchObject({ available: false, status: 'creating' });
    await expect(
      runAction({ action: 'snapshot-status', state: state(plan, { snapshot: snap as never }) }, ctx()),
    ).resolves.toMatchObject({ available: true });
  });
});

describe('apply', () => {
  it('re-checks the gates, writes intent then rule under the lease, records plan-step once and announces', async () => {
    const plan = await started();
    const out = (await runAction({ action: 'apply', state: state(plan) }, ctx())) as StepStatus;
    expect(out).toMatchObject({ stepIndex: 0, green: 10, bakeDone: false, nextWaitSeconds: 30 });
    expect(world.weights).toEqual({ blue: 90, green: 10 });
    expect(world.intent).toMatchObject({
      operationId: stepOperationId('plan-1', 0),
      weights: { blue: 90, green: 10 },
    });
    expect(world.audit).toHaveLength(1);
    expect(world.published.map((p) => p.Subject)).toEqual([expect.stringContaining('plan step 1/4')]);
    // A duplicate delivery of the same task (Retry after a lost response) recognises its own work.
    const again = (await runAction({ action: 'apply', state: state(plan) }, ctx())) as StepStatus;
    expect(again.bakeUntil).toBe(out.bakeUntil);
    expect(world.audit).toHaveLength(1);
    expect(world.changes).toHaveLength(1);
  });

  it('refuses to raise green when a gate closed after the StepGate', async () => {
    const plan = await started();
    world.alarms.set(world.composite, 'ALARM');
    await expect(runAction({ action: 'apply', state: state(plan) }, ctx())).rejects.toMatchObject({
      name: 'GateClosed',
    });
    expect(world.changes).toEqual([]);
  });

  it('refuses a step over weights someone else set since the previous step', async () => {
    const plan = await started();
    world.weights = { blue: 50, green: 50 };
    await expect(runAction({ action: 'apply', state: state(plan) }, ctx())).rejects.toMatchObject({
      name: 'PlanAborted',
      message: expect.stringContaining('traffic changed outside plan plan-1'),
    });
  });

  it('an abort that lands while the rule changes sends traffic back to 100% blue', async () => {
    const plan = await started();
    world.onCall = (command) => {
      if (command === 'elbv2.ModifyRule' && world.plan?.status === 'running') {
        world.items.set('rollout#plan|current', { ...world.plan, status: 'aborting' });
      }
    };
    await expect(runAction({ action: 'apply', state: state(plan) }, ctx())).rejects.toMatchObject({
      name: 'PlanAborted',
    });
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.violations({ expectLeaseFree: false })).toEqual([]);
  });
});

describe('bake-check', () => {
  async function baking(): Promise<{ plan: PlanContext; step: StepStatus }> {
    const plan = await started();
    const step = (await runAction({ action: 'apply', state: state(plan) }, ctx())) as StepStatus;
    return { plan, step };
  }

  it('keeps baking while all is well, then ends when its time is up', async () => {
    const { plan, step } = await baking();
    await expect(
      runAction({ action: 'bake-check', state: state(plan, { step }) }, ctx()),
    ).resolves.toMatchObject({ bakeDone: false });
    world.now += 900_000;
    await expect(
      runAction({ action: 'bake-check', state: state(plan, { step }) }, ctx()),
    ).resolves.toMatchObject({ bakeDone: true });
  });

  it.each([
    ['a green alarm', (w: TrafficWorld) => w.alarms.set(w.greenAlarms[1]!, 'ALARM'), 'AlarmFiring'],
    ['critical-any', (w: TrafficWorld) => w.alarms.set(w.composite, 'ALARM'), 'AlarmFiring'],
    [
      'green without a healthy target',
      (w: TrafficWorld) => (w.health.green = ['draining']),
      'GreenUnhealthy',
    ],
    ['traffic moved under it', (w: TrafficWorld) => (w.weights = { blue: 100, green: 0 }), 'PlanAborted'],
    // The same signals as the CLI bake (bake-signals.ts).
    ['a data-checks violation', (w: TrafficWorld) => w.setChecks('violation'), 'GateClosed'],
  ])('fails on %s (the machine then rolls back)', async (_what, change, name) => {
    const { plan, step } = await baking();
    change(world);
    await expect(
      runAction({ action: 'bake-check', state: state(plan, { step }) }, ctx()),
    ).rejects.toMatchObject({ name });
  });
});

describe('rollback', () => {
  it('writes 100% blue to rule and intent whatever it reads, closes the plan, releases the lease and pages', async () => {
    const plan = await started();
    await runAction({ action: 'apply', state: state(plan) }, ctx());
    // A half-applied earlier attempt: the rule already reads blue, the intent still says green 10.
    world.weights = { blue: 100, green: 0 };
    await expect(
      runAction(
        { action: 'rollback', state: state(plan, { error: { Error: 'AlarmFiring', Cause: 'x' } }) },
        ctx(),
      ),
    ).resolves.toMatchObject({ outcome: 'rolled-back' });
    expect(world.intent).toMatchObject({ weights: { blue: 100, green: 0 } });
    expect(world.plan).toMatchObject({ status: 'rolled-back' });
    expect(world.lease).toBeUndefined();
    expect(world.published.at(-1)?.Subject).toMatch(/ROLLED BACK/);
    expect(world.violations()).toEqual([]);
  });

  it('records a refusal when no traffic had moved', async () => {
    const plan = await started();
    await expect(
      runAction(
        { action: 'rollback', state: state(plan, { error: { Error: 'GateClosed', Cause: 'x' } }) },
        ctx(),
      ),
    ).resolves.toMatchObject({ outcome: 'refused' });
    expect(world.changes).toEqual([]);
  });
});

describe('complete and refuse', () => {
  it('marks the plan succeeded and releases the lease; a retry after success is a no-op', async () => {
    const plan = await started();
    await expect(runAction({ action: 'complete', state: state(plan) }, ctx())).resolves.toMatchObject({
      planId: 'plan-1',
    });
    expect(world.lease).toBeUndefined();
    await expect(runAction({ action: 'complete', state: state(plan) }, ctx())).resolves.toMatchObject({
      planId: 'plan-1',
    });
    expect(world.published.filter((p) => /complete/.test(p.Subject ?? ''))).toHaveLength(1);
  });

  it('records a plan that never started without touching traffic', async () => {
    world.weights = { blue: 90, green: 10 };
    await runAction(
      { action: 'refuse', state: { request, error: { Error: 'LockHeldError', Cause: 'held' } }, execution },
      ctx(),
    );
    expect(world.changes).toEqual([]);
    expect(world.audit[0]).toMatchObject({
      kind: 'plan-abort',
      outcome: 'refused',
      from: { blue: 90, green: 10 },
    });
  });
});

describe('configFromEnv: the evidence settings', () => {
  const base = {
    ENV_NAME: 'test',
    STATE_TABLE_NAME: 't',
    LISTENER_ARN: 'l',
    RULE_ARN: 'r',
    BLUE_TARGET_GROUP_ARN: 'b',
    GREEN_TARGET_GROUP_ARN: 'g',
    ALARM_NAMES: '[]',
    CHECKS_MAX_AGE_SECONDS: '900',
    CHECK_INTERVAL_SECONDS: '30',
    DB_INSTANCE_IDENTIFIER: 'db',
    SNAPSHOT_TIMEOUT_SECONDS: '3600',
    CRITICAL_TOPIC_ARN: 'c',
    WARNING_TOPIC_ARN: 'w',
  };

  it('reads the minimum requests, the evidence wait and the minimum bake (180 s unless set)', () => {
    expect(
      configFromEnv({ ...base, MIN_REQUESTS_PER_STEP: '250', EVIDENCE_WAIT_SECONDS: '600' }),
    ).toMatchObject({ minRequestsPerStep: 250, evidenceWaitSeconds: 600, minBakeSeconds: 180 });
  });

  it('refuses a value that is not a whole number >= 0', () => {
    expect(() => configFromEnv({ ...base, MIN_REQUESTS_PER_STEP: 'lots' })).toThrow(
      /MIN_REQUESTS_PER_STEP: got "lots", expected a whole number >= 0/,
    );
    expect(() => configFromEnv({ ...base, EVIDENCE_WAIT_SECONDS: '-5' })).toThrow(/EVIDENCE_WAIT_SECONDS/);
  });
});
