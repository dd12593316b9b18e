import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { autoRollback, type AlarmStateChangeEvent } from '../../../lambda/auto-rollback/handler';
import { runAction, type PlanContext } from '../../../lambda/rollout/handler';
import { takeSnapshot } from '../../../lambda/snapshots/take-snapshot';
import type { ShiftDeps } from '../../../cli/shift/deps';
import { parseShiftArgs } from '../../../cli/shift/options';
import { runShift } from '../../../cli/shift/run';
import type { CliIo } from '../../../cli/io';
import { rolloutContext, runPlan } from '../../support/rollout-run';
import { FAULT_KINDS, TrafficWorld, type FaultKind } from '../../support/traffic-world';

/**
 * The fault-injection matrix (issue 11): for each writer and each AWS call on its path, a throttle
 * (`error`), a crash right after the call succeeded (`crash-after`), and a duplicate of the call; then the
 * writer resumes as the real system would, and the invariants are checked (TrafficWorld.violations):
 * - the rule (the one live representation) matches the record of intent;
 * - green never rose without the gates open and a lease held;
 * - the lease is released, or expires within minutes (never hours);
 * - no plan item is left running/aborting without an execution.
 * Plus each writer's own outcome: the exit code and message say what happened.
 */
interface Writer {
  readonly name: string;
  /** Builds the world the writer starts from. */
  setup(): Promise<TrafficWorld>;
  /** Runs the writer once and resumes as the real system would; returns a description of the outcome. */
  run(world: TrafficWorld): Promise<void>;
  /** What must hold at the end besides the common invariants. */
  check(world: TrafficWorld): string[];
}

function io(): CliIo & { text: () => string } {
  const lines: string[] = [];
  return {
    stdout: (t) => void lines.push(t),
    stderr: (t) => void lines.push(t),
    isTTY: false,
    prompt: async () => '',
    env: {},
    text: () => lines.join(''),
  };
}

function shiftDeps(world: TrafficWorld): ShiftDeps {
  const region = { region: 'us-east-1' };
  return {
    elbv2: new ElasticLoadBalancingV2Client(region),
    ssm: new SSMClient(region),
    cloudwatch: new CloudWatchClient(region),
    doc: world.doc(),
    rds: new RDSClient(region),
    sns: new SNSClient(region),
    sts: new STSClient(region),
    ecs: new ECSClient(region),
    sfn: new SFNClient(region),
    clock: { now: () => world.now, sleep: async (ms) => void (world.now += ms) },
    takeSnapshot,
    pollIntervalMs: 15_000,
    host: 'ops-laptop',
    pid: 4242,
  };
}

/**
 * The operator runs the printed command again (a new process, a minute later) until it exits 0, at most
 * 6 times: a lease a crashed run left is refused while it looks live, and taken over once proven stale.
 */
async function operator(world: TrafficWorld, argv: string[]): Promise<number> {
  let code = -1;
  for (let attempt = 0; attempt < 6 && code !== 0; attempt++) {
    world.revive();
    if (attempt > 0) world.fault = undefined;
    try {
      code = await runShift(parseShiftArgs(argv), io(), shiftDeps(world));
    } catch {
      code = 99;
    }
    if (world.hasCrashed) code = 99; // the process died at the crash, whatever it printed after.
    world.now += 60_000; // the operator reads the message and runs the command again.
  }
  return code;
}

function alarmEvent(world: TrafficWorld): AlarmStateChangeEvent {
  return {
    id: 'event-1',
    time: new Date(world.now).toISOString(),
    detail: {
      alarmName: world.greenAlarms[0]!,
      state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: new Date(world.now).toISOString() },
    },
  };
}

const execution = {
  id: 'arn:aws:states:us-east-1:111111111111:execution:pipeline-guardrails-test-rollout:plan-1',
  name: 'plan-1',
};

const WRITERS: Writer[] = [
  {
    name: 'CLI shift 0% -> 10% (prod-like: snapshot, bake 60s)',
    setup: async () => new TrafficWorld(undefined, 'dev'),
    run: async (world) => {
      await operator(world, ['--env', 'dev', '--green', '10', '--yes', '--bake', '60s']);
    },
    check: (world) =>
      world.weights.green === 10 ? [] : [`shift did not end at 10% (${world.weights.green}%)`],
  },
  {
    name: 'CLI --rollback during a plan',
    setup: async () => {
      const world = new TrafficWorld(undefined, 'dev');
      world.executions.set(execution.id.replace('test', 'dev'), 'RUNNING');
      const rctx = rolloutContext(world);
      const request = { steps: [25, 100], bakeSeconds: 600, actor: 'alice' };
      const plan = (await runAction(
        {
          action: 'start',
          state: { request },
          execution: { ...execution, id: execution.id.replace('test', 'dev') },
        },
        rctx,
      )) as PlanContext;
      await runAction({ action: 'apply', state: { request, plan, cursor: { stepIndex: 0 } } }, rctx);
      world.calls.length = 0;
      return world;
    },
    run: async (world) => {
      await operator(world, ['--env', 'dev', '--rollback', '--yes']);
    },
    check: (world) => [
      ...(world.weights.green === 0 ? [] : ['not 100% blue']),
      ...(world.plan?.status === 'aborted' ? [] : [`plan item ${String(world.plan?.status)}`]),
      ...([...world.executions.values()].includes('RUNNING') ? ['execution still running'] : []),
    ],
  },
  {
    name: 'auto-rollback at 25% green (Lambda async: up to 2 retries; a duplicate delivery)',
    setup: async () => {
      const world = new TrafficWorld({ blue: 75, green: 25 });
      world.greenRaised(600_000);
      return world;
    },
    run: async (world) => {
      const ctx = {
        config: {
          envName: world.envName,
          stateTableName: world.tableName,
          target: world.target,
          stateMachineArn: world.stateMachineArn,
          resultTopicArn: world.warningTopicArn,
          triggers: new Map([[world.greenAlarms[0]!, ['green-error-rate' as const]]]),
          watchHours: 24,
          actor: 'auto-rollback',
        },
        clients: { ...rolloutContext(world).clients, sfn: new SFNClient({ region: 'us-east-1' }) },
        now: () => new Date(world.now),
        sleep: async () => undefined,
      };
      const event = alarmEvent(world); // a retry delivers the same event
      for (let attempt = 0; attempt < 3; attempt++) {
        world.revive();
        try {
          await autoRollback(event, ctx);
          if (!world.hasCrashed) break;
        } catch {
          // Lambda's async retry.
        }
        world.now += 60_000;
      }
    },
    check: (world) =>
      world.weights.green === 0 ? [] : [`auto-rollback left green at ${world.weights.green}%`],
  },
  {
    name: 'rollout plan 10 -> 100 (state machine Retry/Catch)',
    setup: async () => new TrafficWorld(),
    run: async (world) => {
      await runPlan(world, { steps: [10, 100], bakeSeconds: 180 });
    },
    check: (world) =>
      [0, 100].includes(world.weights.green)
        ? []
        : [`plan left green at ${world.weights.green}% with no plan running`],
  },
];

/** One clean run of a writer: how many AWS calls its path makes. */
async function callsOf(w: Writer): Promise<number> {
  const world = await w.setup();
  await w.run(world);
  return world.calls.length;
}

describe('fault-injection matrix: writers x calls x faults, 0 violations', () => {
  const sizes: Record<string, number> = {};
  let total = 0;

  afterAll(() => {
    // The figure the report quotes.
    process.stdout.write(
      `fault matrix: ${Object.entries(sizes)
        .map(([n, c]) => `${n}: ${c} calls x ${FAULT_KINDS.length} faults`)
        .join('; ')}; total ${total} runs\n`,
    );
  });

  it.each(WRITERS.map((w) => [w.name, w] as const))('%s', async (_name, writer) => {
    const calls = await callsOf(writer);
    sizes[writer.name] = calls;
    const violations: string[] = [];
    for (let index = 0; index < calls; index++) {
      for (const kind of FAULT_KINDS as FaultKind[]) {
        const world = await writer.setup();
        world.fault = { index, kind };
        await writer.run(world);
        world.revive();
        // A lease left by a crashed holder expires by itself: check it is short, then let it lapse.
        const found = [...world.violations(), ...writer.check(world)];
        for (const v of found)
          violations.push(`${kind} at call ${index} (${world.calls[index] ?? '?'}): ${v}`);
        total++;
      }
    }
    expect(violations).toEqual([]);
  });
});
