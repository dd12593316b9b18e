import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createStatusCommand, parseStatusArgs, runStatus } from '../../cli/commands/status';
import { COMMANDS } from '../../cli/commands';
import { main } from '../../cli/main';
import type { StatusDeps } from '../../cli/status/sections';
import { PLAN_KEY } from '../../lambda/shared/rollout-control';
import { snapshotIdentifier, snapshotTags } from '../../lambda/snapshots/naming';
import { planState } from '../lambda/rollout/fixtures';
import { FakeEnvironment, fakeIo, mocks } from './shift-fake-env';

let env: FakeEnvironment;

function addSnapshot(createdAt: Date, status = 'available') {
  env.snapshots.push({
    DBSnapshotIdentifier: snapshotIdentifier(env.envName, 'scheduled', createdAt),
    DBInstanceIdentifier: `nba-analytics-${env.envName}`,
    SnapshotType: 'manual',
    Status: status,
    SnapshotCreateTime: createdAt,
    TagList: snapshotTags(env.envName, 'scheduled'),
  });
}

beforeEach(() => {
  env = new FakeEnvironment('prod');
  addSnapshot(new Date(env.now - 3 * 3600_000));
});

const deps = (): StatusDeps => env.deps();

/** `main`, with the status command on the fake environment's clients and clock. */
async function status(argv: string[], io = fakeIo()) {
  const commands = {
    ...COMMANDS,
    status: { summary: 'status', load: async () => createStatusCommand(() => deps()) },
  };
  const code = await main(['status', ...argv], io.io, commands);
  return { code, out: io.out(), err: io.err() };
}

describe('status: every guardrail on one screen', () => {
  it('all good: exit 0, one line per guardrail, what is not built or not configured says so', async () => {
    const r = await status(['--env', 'prod']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^pipeline-guardrails prod status at 2026-11-26 02:00 UTC: ALL GOOD$/m);
    expect(r.out).toMatch(/^ {2}data checks +ok +ok 1m ago \(every \d+m, stale after \d+m\)$/m);
    expect(r.out).toMatch(/^ {2}snapshot +ok +pipeline-guardrails-prod-scheduled-\S+ available, 3h ago$/m);
    expect(r.out).toMatch(/^ {2}restore drill +n\/a +not configured: no restore drill is deployed/m);
    expect(r.out).toMatch(/^ {2}parity +n\/a +not configured: no parity pair/m);
    expect(r.out).toMatch(
      /^ {2}weights +ok +blue 100% \/ green 0% \(weighted rule; no shift recorded yet\)$/m,
    );
    expect(r.out).toMatch(/^ {2}lease +ok +free/m);
    expect(r.out).toMatch(/^ {2}plan +n\/a +not configured: no progressive rollout deployed/m);
    expect(r.out).toMatch(/^ {2}auto-rollback +n\/a +not configured: /m);
    expect(r.out).toMatch(/^ {2}alarms +ok +none in ALARM/m);
  });

  it('needs attention: exit 1 with every alarm in ALARM, a stale verdict and the lock holder', async () => {
    env.setAlarm('routing-green-error-rate', 'ALARM', 'Threshold Crossed: 3 datapoints > 1%');
    env.checks = {
      status: 'violation',
      checkedAt: new Date(env.now - 40 * 60_000).toISOString(),
      problems: ['public.games: noDecrease violated: 3 rows lost'],
    };
    env.lock = {
      owner: 'arn:aws:sts::333333333333:assumed-role/Op/bob',
      purpose: 'shift to 25%',
      acquiredAt: '2026-11-26T01:58:00.000Z',
      expiresAt: env.now / 1000 + 600,
    };
    const r = await status(['--env', 'prod']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/NEEDS ATTENTION \(2\)$/m);
    expect(r.out).toMatch(/data checks +ATTENTION +VIOLATION 40m ago - STALE/);
    expect(r.out).toMatch(/^ +public\.games: noDecrease violated: 3 rows lost$/m);
    expect(r.out).toMatch(/alarms +ATTENTION +2 in ALARM/);
    expect(r.out).toMatch(
      /^ +pipeline-guardrails-prod-routing-green-error-rate: Threshold Crossed: 3 datapoints > 1%$/m,
    );
    expect(r.out).toMatch(/^ +pipeline-guardrails-prod-critical-any/m);
    expect(r.out).toMatch(
      /lease +ok +held by arn:aws:sts::333333333333:assumed-role\/Op\/bob for "shift to 25%"/,
    );
  });

  it('an old snapshot and weight drift need attention', async () => {
    env.snapshots.length = 0;
    addSnapshot(new Date(env.now - 3 * 86_400_000));
    addSnapshot(new Date(env.now - 600_000), 'failed');
    env.listener = { blue: 90, green: 10 };
    env.intent = { blue: 100, green: 0 };
    const r = await status(['--env', 'prod']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/snapshot +ATTENTION +\S+ available, 3d ago; newest \S+ failed, 10m ago/);
    expect(r.out).toMatch(/the newest available one is older than the schedule allows/);
    expect(r.out).toMatch(
      /weights +ATTENTION +weighted rule blue 90% \/ green 10%, record of intent blue 100% \/ green 0%: DRIFT/,
    );
  });

  it('one guardrail it cannot read is UNKNOWN (exit 2) and hides nothing else', async () => {
    mocks.rds.on(DescribeDBSnapshotsCommand).rejects(
      Object.assign(new Error('not authorized to perform rds:DescribeDBSnapshots'), {
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
      }),
    );
    const r = await status(['--env', 'prod']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/COULD NOT LOOK AT EVERYTHING/);
    expect(r.out).toMatch(/snapshot +UNKNOWN +could not read: AWS denied the call \(AccessDenied/);
    expect(r.out).toMatch(/data checks +ok/);
    expect(r.out).toMatch(/alarms +ok/);
  });

  it('a problem it can see wins over one it cannot read: exit 1', async () => {
    mocks.rds.on(DescribeDBSnapshotsCommand).rejects(new Error('boom'));
    env.setAlarm('database-cpu-critical', 'ALARM');
    expect((await status(['--env', 'prod'])).code).toBe(1);
  });

  it('shows a running rollout plan, and a plan marked running with no execution as attention', async () => {
    env.params.set(
      `${env.root}/rollout/state-machine-arn`,
      'arn:aws:states:us-east-1:333333333333:stateMachine:pipeline-guardrails-prod-rollout',
    );
    const plan = planState({
      planId: 'plan-20261126t0150z-ab12',
      bakeUntil: '2026-11-26T02:10:00.000Z',
    });
    mocks.doc.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: { ...PLAN_KEY, ...plan } });
    mocks.sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: plan.planId,
          executionArn: 'arn:x',
          stateMachineArn: 'arn:sm',
          status: 'RUNNING',
          startDate: new Date(),
        },
      ],
    });
    const running = await status(['--env', 'prod']);
    expect(running.out).toMatch(
      /plan +ok +plan-20261126t0150z-ab12 running: step 2\/4 \(25% green\), baking until 2026-11-26T02:10:00.000Z; plan 10% -> 25% -> 50% -> 100%/,
    );
    expect(running.out).toMatch(
      /auto-rollback +ok +armed: rollout plan plan-20261126t0150z-ab12 is running, then 24h after green's last increase/,
    );

    mocks.sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const stuck = await status(['--env', 'prod']);
    expect(stuck.code).toBe(1);
    expect(stuck.out).toMatch(
      /plan +ATTENTION +plan plan-20261126t0150z-ab12 is marked running but no execution runs: clear it with npm run shift -- --env prod --abort/,
    );
  });

  it('--json: one object with every section, its level and data, and the exit code', async () => {
    env.setAlarm('routing-throughput', 'ALARM');
    const r = await status(['--env', 'prod', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ env: 'prod', at: '2026-11-26T02:00:00.000Z', exitCode: 1 });
    expect(doc.sections.map((s: { id: string }) => s.id)).toEqual([
      'checks',
      'snapshot',
      'restore-drill',
      'parity',
      'weights',
      'lease',
      'plan',
      'auto-rollback',
      'alarms',
    ]);
    expect(doc.sections.find((s: { id: string }) => s.id === 'alarms')).toMatchObject({
      level: 'attention',
      data: [{ name: 'pipeline-guardrails-prod-routing-throughput', composite: false }],
    });
    expect(doc.sections.find((s: { id: string }) => s.id === 'restore-drill')).toMatchObject({
      level: 'not-available',
      data: { available: false, why: 'not-configured' },
    });
  });

  it('--watch refreshes every interval (one JSON line per refresh with --json)', async () => {
    const io = fakeIo();
    const opts = parseStatusArgs(['--env', 'prod', '--watch', '--interval', '10s', '--json']);
    const started = env.now;
    expect(await runStatus(opts, io.io, deps(), { maxRefreshes: 3 })).toBe(0);
    const lines = io
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.at)).toEqual(
      [0, 10_000, 20_000].map((d) => new Date(started + d).toISOString()),
    );
  });

  it('without credentials: exit 2, one message, and JSON with --json', async () => {
    mocks.ssm.on(GetParametersByPathCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const r = await status(['--env', 'prod', '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: no AWS credentials found/m);
    expect(JSON.parse(r.out)).toMatchObject({
      command: 'status',
      outcome: 'error',
      error: { kind: 'credentials' },
    });
  });

  it.each([
    [['--env', 'qa'], /--env: got "qa", expected one of dev, staging, prod/],
    [['--env', 'prod', '--interval', '10s'], /--interval goes with --watch/],
    [
      ['--env', 'prod', '--watch', '--interval', '1s'],
      /--interval: got "1s", expected a duration from 5s to 1h/,
    ],
  ])('bad arguments %j exit 2 before any AWS call', async (argv, message) => {
    const r = await status(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(env.callCount()).toBe(0);
  });

  it('is one of the commands, with its usage and exit codes', async () => {
    const io = fakeIo();
    expect(await main(['status', '--help'], io.io)).toBe(0);
    expect(io.out()).toMatch(/^ +0 +every guardrail is fine/m);
    expect(io.out()).toMatch(/^ +1 +something needs attention/m);
    expect(io.out()).toMatch(/^ +2 +could not look/m);
    expect(createStatusCommand().name).toBe('status');
  });
});

// DescribeAlarms is read with StateValue ALARM: the fake ignores that filter, the command must not rely on it.
it('status reads alarms by prefix and state, paginated', async () => {
  mocks.cloudwatch
    .on(DescribeAlarmsCommand)
    .resolvesOnce({ MetricAlarms: [{ AlarmName: 'a1', StateValue: 'ALARM' }], NextToken: 't' })
    .resolves({ CompositeAlarms: [{ AlarmName: 'c1', StateValue: 'ALARM' }] });
  const r = await status(['--env', 'prod', '--json']);
  const alarms = JSON.parse(r.out).sections.find((s: { id: string }) => s.id === 'alarms');
  expect(alarms.data.map((a: { name: string }) => a.name)).toEqual(['a1', 'c1']);
  expect(mocks.cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input).toMatchObject({
    AlarmNamePrefix: 'pipeline-guardrails-prod-',
    StateValue: 'ALARM',
  });
});

it('status --watch: Ctrl-C ends the wait at once, with the last screen’s exit code', async () => {
  const io = fakeIo();
  const listeners = process.listenerCount('SIGINT');
  const opts = parseStatusArgs(['--env', 'prod', '--watch', '--interval', '1h']);
  const d = env.deps();
  const sleeps: number[] = [];
  const watching = runStatus(opts, io.io, {
    ...d,
    clock: {
      now: d.clock.now,
      sleep: (ms, signal) =>
        new Promise<void>((resolve) => {
          sleeps.push(ms);
          signal?.addEventListener('abort', () => resolve());
          process.emit('SIGINT');
        }),
    },
  });
  expect(await watching).toBe(0);
  expect(sleeps).toEqual([3_600_000]);
  expect(io.out().match(/status at/g)).toHaveLength(1);
  expect(process.listenerCount('SIGINT')).toBe(listeners);
});
