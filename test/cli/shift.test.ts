import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBSnapshotCommand } from '@aws-sdk/client-rds';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-jest';
import { runShiftCommand } from '../../cli/commands/shift';
import { main } from '../../cli/main';
import { InterruptedError } from '../../cli/shift/deps';
import { EXIT } from '../../cli/shift/exit-codes';
import { FakeEnvironment, fakeIo, mocks, OPERATOR_ARN } from './shift-fake-env';

jest.mock('../../cli/shift/plan', () => ({ runPlanCommand: jest.fn(async () => 0) }));

let env: FakeEnvironment;
beforeEach(() => {
  env = new FakeEnvironment('prod');
});

async function shift(argv: string[], io = fakeIo()) {
  const code = await runShiftCommand(argv, io.io, () => env.deps());
  return { code, out: io.out(), err: io.err(), io };
}

const GREEN = ['error-rate', 'latency-p95', 'unhealthy-hosts'].map(
  (k) => `pipeline-guardrails-prod-routing-green-${k}`,
);

describe('bad arguments exit 2 before any AWS call', () => {
  it.each([
    [['--green', '25'], /--env is required/],
    [['--env', 'qa', '--green', '25'], /--env: got "qa", expected one of dev, staging, prod/],
    [['--env', 'prod'], /nothing to do/],
    [['--env', 'prod', '--green', '125'], /--green: got "125", expected an integer percentage from 0 to 100/],
    [['--env', 'prod', '--green', '12.5'], /--green: got "12.5"/],
    [['--env', 'prod', '--green', 'ten'], /--green: got "ten"/],
    [['--env', 'prod', '--green', '25', '--blue', '80'], /expected a sum of 100/],
    [['--env', 'prod', '--green', '25', '--rollback'], /choose one of --green\/--blue, --rollback/],
    [['--env', 'prod', '--status', '--plan', '10,100'], /choose one of --status, --plan/],
    [['--env', 'prod', '--green', '25', '--force'], /--force needs --reason/],
    [['--env', 'prod', '--green', '25', '--reason', '  '], /--reason: got an empty text/],
    [
      ['--env', 'prod', '--rollback', '--force', '--reason', 'x'],
      /--force applies to --green\/--blue or --plan only/,
    ],
    [
      ['--env', 'prod', '--green', '25', '--bake', '5 minutes'],
      /--bake: got "5 minutes", expected a duration/,
    ],
    [['--env', 'prod', '--status', '--bake', '5m'], /--bake applies to/],
    [
      ['--env', 'prod', '--green', '25', '--bake', '48h'],
      /--bake: got "48h", expected a duration from 0s to 1d/,
    ],
    [
      ['--env', 'prod', '--plan', '10,100', '--bake', '7h'],
      /--bake: got "7h", expected a duration from 0s to 6h/,
    ],
    [
      ['--env', 'prod', '--green', '25', '--bake', '300'],
      /--bake: got "300", expected a duration with its unit/,
    ],
    [['--env', 'prod', '--green', '-5'], /--green: got "-5", expected an integer percentage from 0 to 100/],
    [['--env', 'prod', '--blue', '-0.5'], /--blue: got "-0.5", expected an integer percentage/],
    [['--env', 'prod', '--status', '--dry-run'], /--status changes nothing already/],
    [['--env', 'prod', '--plan', '50,25,100'], /--plan: got "50,25,100", expected strictly increasing/],
    [['--env', 'prod', '--plan', '0,50'], /expected steps above 0/],
    [['--env', 'prod', '--green', '25', '--colour', 'x'], /Unknown option '--colour'/],
  ])('%j', async (argv, message) => {
    const io = fakeIo();
    const code = await main(['shift', ...argv], io.io);
    expect(code).toBe(EXIT.USAGE);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain('Usage: pipeline-guardrails shift');
    expect(env.callCount()).toBe(0);
  });

  it('--help prints the usage with every exit code', async () => {
    const io = fakeIo();
    expect(await main(['shift', '--help'], io.io)).toBe(0);
    for (const code of Object.values(EXIT)) expect(io.out()).toMatch(new RegExp(`^ +${code}  `, 'm'));
  });
});

describe('confirmation in prod', () => {
  it('refuses without a terminal and without --yes, before any AWS call', async () => {
    const r = await shift(['--env', 'prod', '--green', '10']);
    expect(r.code).toBe(EXIT.NOT_CONFIRMED);
    expect(r.err).toMatch(/no terminal to ask on\. Pass --yes/);
    expect(env.callCount()).toBe(0);
  });

  it('asks on a terminal; typing the environment name goes ahead', async () => {
    const io = fakeIo({ tty: true, answers: ['prod'] });
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '0'], io);
    expect(r.code).toBe(EXIT.OK);
    expect(io.prompts).toEqual(['Move prod traffic to blue 90% / green 10%? Type "prod" to confirm: ']);
    expect(env.listener).toEqual({ blue: 90, green: 10 });
  });

  it('anything else on the terminal changes nothing and releases the lock', async () => {
    const io = fakeIo({ tty: true, answers: ['y'] });
    const r = await shift(['--env', 'prod', '--green', '10'], io);
    expect(r.code).toBe(EXIT.NOT_CONFIRMED);
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(mocks.rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(env.lock).toBeUndefined();
  });

  it('staging does not ask', async () => {
    env = new FakeEnvironment('staging');
    const r = await shift(['--env', 'staging', '--green', '10', '--bake', '0']);
    expect(r.code).toBe(EXIT.OK);
  });
});

describe('happy path: 0% -> 10% with the pre-shift snapshot and a bake', () => {
  it('snapshots, applies, reads back, records, announces, bakes and releases the lock', async () => {
    const r = await shift([
      '--env',
      'prod',
      '--green',
      '10',
      '--bake',
      '5m',
      '--yes',
      '--reason',
      'step 1 of the cutover',
    ]);
    expect(r.code).toBe(EXIT.OK);

    // Snapshot first, of the instance the deployment names, and waited for.
    expect(mocks.rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'nba-analytics-prod',
      DBSnapshotIdentifier: 'pipeline-guardrails-prod-pre-shift-20261126t020000z',
    });
    expect(r.out).toMatch(/ok {4}pipeline-guardrails-prod-pre-shift-20261126t020000z available after 30s/);
    const snapshotCall = mocks.rds.commandCalls(CreateDBSnapshotCommand)[0]!;
    const modifyCall = mocks.elbv2.commandCalls(ModifyRuleCommand)[0]!;
    expect(snapshotCall.calledBefore(modifyCall)).toBe(true);

    // Applied to the listener and all three parameters, read back.
    expect(env.listener).toEqual({ blue: 90, green: 10 });
    expect(env.intent?.weights).toEqual({ blue: 90, green: 10 });
    expect(r.out).toContain('applied: blue 100% / green 0% -> blue 90% / green 10% (listener read back');

    // Audit: who, from -> to, snapshot, alarm states, not forced.
    expect(env.audit).toHaveLength(1);
    expect(env.audit[0]).toMatchObject({
      kind: 'shift',
      outcome: 'applied',
      actor: OPERATOR_ARN,
      from: { blue: 100, green: 0 },
      to: { blue: 90, green: 10 },
      forced: false,
      reason: 'step 1 of the cutover',
      snapshotId: 'pipeline-guardrails-prod-pre-shift-20261126t020000z',
      alarmStates: expect.objectContaining({ [GREEN[0]!]: 'OK' }),
    });
    // Announced on the warning topic.
    expect(mocks.sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:333333333333:pipeline-guardrails-prod-warning',
      Subject: '[pipeline-guardrails prod] traffic shift: green 0% -> 10%',
    });
    expect(env.published[0]!.Message).toMatch(
      /who: arn:aws:sts::333333333333:assumed-role\/DataPlatformOperator\/alice/,
    );

    // Bake: green alarms polled every 15 s for 5 minutes (instantly, on the fake clock).
    expect(r.out).toMatch(
      /bake 5m00s: watching pipeline-guardrails-prod-critical-any, pipeline-guardrails-prod-routing-green-error-rate/,
    );
    expect(r.out).toContain("bake complete: green's alarms stayed OK and its targets healthy for 5m00s");
    expect(r.out).toMatch(/1m00s \/ 5m00s {2}green alarms OK, 2\/2 targets healthy, 4m00s left/);
    expect(env.lock).toBeUndefined();
  });

  it('takes no snapshot when green is already above 0% (policy when-green-rises-from-zero)', async () => {
    env.listener = { blue: 90, green: 10 };
    env.intent = { blue: 90, green: 10 };
    const r = await shift(['--env', 'prod', '--green', '25', '--bake', '0', '--yes']);
    expect(r.code).toBe(EXIT.OK);
    expect(mocks.rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(r.out).toContain('no snapshot (green is already above 0%');
  });

  it('snapshots on every shift with policy always', async () => {
    env.listener = { blue: 90, green: 10 };
    env.intent = { blue: 90, green: 10 };
    env.params.set(`${env.root}/routing/pre-shift-snapshot`, 'always');
    expect((await shift(['--env', 'prod', '--green', '25', '--bake', '0', '--yes'])).code).toBe(EXIT.OK);
    expect(mocks.rds).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 1);
  });

  it('a failed snapshot refuses the shift with traffic unchanged', async () => {
    env.snapshotPolls = 10_000;
    env.params.set(`${env.root}/routing/snapshot-timeout-minutes`, '1');
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.SNAPSHOT_FAILED);
    expect(r.err).toMatch(/pre-shift snapshot failed, traffic unchanged: snapshot .* still creating after/);
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(env.audit[0]).toMatchObject({ outcome: 'refused' });
    expect(env.lock).toBeUndefined();
  });

  it('nothing to do when already there', async () => {
    const r = await shift(['--env', 'prod', '--green', '0', '--yes']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('nothing to do: prod already routes blue 100% / green 0%');
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });
});

describe('bake-time rollback', () => {
  it('rolls back to 100% blue on its own when a green alarm fires, and records it', async () => {
    env.onAlarmPoll = (poll) => {
      if (poll === 8)
        env.setAlarm('routing-green-error-rate', 'ALARM', 'Threshold Crossed: 2 datapoints [3.2, 4.1] > 1');
    };
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '15m', '--yes']);
    expect(r.code).toBe(EXIT.ROLLED_BACK);
    expect(r.out).toContain(
      'green failed during the bake: pipeline-guardrails-prod-critical-any, pipeline-guardrails-prod-routing-green-error-rate; rolling back to 100% blue',
    );
    expect(env.listener).toEqual({ blue: 100, green: 0 });
    expect(env.intent?.weights).toEqual({ blue: 100, green: 0 });
    expect(env.audit.map((a) => [a.kind, a.outcome])).toEqual([
      ['shift', 'applied'],
      ['auto-rollback', 'rolled-back'],
    ]);
    expect(env.audit[1]).toMatchObject({
      from: { blue: 90, green: 10 },
      to: { blue: 100, green: 0 },
      alarmStates: expect.objectContaining({ [GREEN[0]!]: 'ALARM' }),
    });
    expect(env.published.map((p) => p.Subject)).toEqual([
      '[pipeline-guardrails prod] traffic shift: green 0% -> 10%',
      '[pipeline-guardrails prod] AUTOMATIC ROLLBACK: green 10% -> 0%',
    ]);
    expect(env.lock).toBeUndefined();
  });
});

describe('Ctrl-C', () => {
  const interruptAfter = (sleeps: number) => {
    let n = 0;
    return env.deps({
      clock: {
        now: () => env.now,
        sleep: async (ms) => {
          if (++n > sleeps) throw new InterruptedError();
          env.now += ms;
        },
      },
    });
  };

  it('during the bake: the new weights stay, the lock is released, the command says how to roll back', async () => {
    const io = fakeIo();
    const code = await runShiftCommand(
      ['--env', 'prod', '--green', '10', '--bake', '5m', '--yes'],
      io.io,
      () => interruptAfter(6),
    );
    expect(code).toBe(EXIT.INTERRUPTED);
    expect(io.err()).toContain(
      "interrupted during the bake: prod stays at blue 90% / green 10% and nobody is watching green's alarms from here. Roll back with: npm run shift -- --env prod --rollback",
    );
    expect(env.listener).toEqual({ blue: 90, green: 10 });
    expect(env.lock).toBeUndefined();
  });

  it('while waiting for the snapshot: traffic unchanged, lock released', async () => {
    const io = fakeIo();
    const code = await runShiftCommand(['--env', 'prod', '--green', '10', '--yes'], io.io, () =>
      interruptAfter(0),
    );
    expect(code).toBe(EXIT.INTERRUPTED);
    expect(io.err()).toMatch(/interrupted while waiting for the snapshot: traffic unchanged/);
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(env.lock).toBeUndefined();
  });
});

describe('traffic changed by someone else during the bake', () => {
  it('stops watching and reports it (exit 20 when green lost traffic), without touching the listener', async () => {
    env.onAlarmPoll = (poll) => {
      // e.g. the auto-rollback function, or a colleague's --rollback
      if (poll === 4) env.listener = { blue: 100, green: 0 };
    };
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '5m', '--yes']);
    expect(r.code).toBe(EXIT.ROLLED_BACK);
    expect(r.out).toContain(
      'the listener now applies blue 100% / green 0%: traffic was changed by someone else during the bake (see --status); stopped watching',
    );
    expect(mocks.elbv2).toHaveReceivedCommandTimes(ModifyRuleCommand, 1);
    expect(env.audit).toHaveLength(1);
    expect(env.lock).toBeUndefined();
  });
});

describe('failures after traffic moved', () => {
  it('an audit failure does not stop the bake (and says so)', async () => {
    mocks.doc
      .on(PutCommand, { Item: { pk: 'shift#audit' } })
      .rejects(new Error('ProvisionedThroughputExceeded'));
    env.onAlarmPoll = (poll) => {
      if (poll === 3) env.setAlarm('routing-green-latency-p95', 'ALARM');
    };
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '5m', '--yes']);
    expect(r.err).toContain(
      'warning: traffic changed but the audit record failed: ProvisionedThroughputExceeded',
    );
    expect(r.code).toBe(EXIT.ROLLED_BACK);
    expect(env.listener).toEqual({ blue: 100, green: 0 });
  });

  it('a failed automatic rollback is shouted, with the command to run', async () => {
    env.onAlarmPoll = (poll) => {
      if (poll === 1) {
        env.setAlarm('routing-green-error-rate', 'ALARM');
        mocks.elbv2.on(ModifyRuleCommand).rejects(new Error('Throttling: Rate exceeded'));
      }
    };
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '5m', '--yes']);
    expect(r.code).toBe(EXIT.APPLY_FAILED);
    expect(r.err).toMatch(
      /AUTOMATIC ROLLBACK FAILED: .*listener rule was not changed \(Throttling: Rate exceeded\).*Roll back now: npm run shift -- --env prod --rollback/,
    );
    expect(env.lock).toBeUndefined();
  });
});

describe('bake-time rollback on target health', () => {
  it('rolls back when green loses every healthy target, before any alarm could fire', async () => {
    env.onAlarmPoll = (poll) => {
      if (poll === 2) env.targets.green = ['unhealthy', 'draining'];
    };
    const r = await shift(['--env', 'prod', '--green', '25', '--bake', '5m', '--yes']);
    expect(r.code).toBe(EXIT.ROLLED_BACK);
    expect(r.out).toContain(
      'green failed during the bake: green: no healthy target in its target group (of 2); rolling back to 100% blue',
    );
    expect(env.listener).toEqual({ blue: 100, green: 0 });
    expect(env.audit[1]).toMatchObject({
      kind: 'auto-rollback',
      reason: 'bake: green: no healthy target in its target group (of 2)',
    });
  });
});

describe('the gates are re-checked after the prompt and after the snapshot wait (issue 11, item 4)', () => {
  /** Traffic unchanged, the lease released, the refusal audited with when it was found. */
  const refusedBeforeTheChange = (moment: RegExp) => {
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(env.listener).toEqual({ blue: 100, green: 0 });
    expect(env.lock).toBeUndefined();
    expect(env.audit).toHaveLength(1);
    expect(env.audit[0]).toMatchObject({ outcome: 'refused', detail: expect.stringMatching(moment) });
  };

  const flips: [string, () => void, number, RegExp][] = [
    [
      'a critical alarm (critical-any)',
      () => env.setAlarm('checks-rows-lost-games', 'ALARM'),
      EXIT.CRITICAL_ALARM,
      /refused \(critical-any, exit 10\): alarm pipeline-guardrails-prod-critical-any is in ALARM \(critical in ALARM: pipeline-guardrails-prod-checks-rows-lost-games\)/,
    ],
    [
      "one of green's alarms",
      () => env.setAlarm('routing-green-unhealthy-hosts', 'ALARM'),
      EXIT.CRITICAL_ALARM,
      /refused \(alarms, exit 10\): alarm pipeline-guardrails-prod-routing-green-unhealthy-hosts is in ALARM/,
    ],
    [
      "green's last healthy target",
      () => (env.targets.green = ['unhealthy', 'unhealthy']),
      EXIT.GREEN_UNHEALTHY,
      /refused \(green-health, exit 11\): green: no healthy target in its target group \(2 unhealthy\)/,
    ],
    [
      'a data-checks violation',
      () =>
        (env.checks = {
          status: 'violation',
          checkedAt: new Date(env.now).toISOString(),
          problems: ['games: rows lost 3 (noDecrease)'],
        }),
      EXIT.CHECKS_NOT_CLEAN,
      /refused \(data-checks, exit 12\): data checks: last run .* reported violation: games: rows lost 3/,
    ],
  ];

  it.each(flips)('%s while the prod confirmation prompt is open', async (_what, flip, code, message) => {
    const io = fakeIo({ tty: true, answers: ['prod'], onPrompt: flip });
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '0'], io);
    expect(io.prompts).toHaveLength(1);
    expect(r.code).toBe(code);
    expect(r.out).toMatch(/gates re-checked after the confirmation: closed/);
    expect(r.err).toMatch(message);
    // Refused before the snapshot too: nothing to wait for.
    expect(mocks.rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    refusedBeforeTheChange(/^wanted blue 90% \/ green 10%; gates closed after the confirmation: /);
  });

  it.each(flips)('%s while the pre-shift snapshot is awaited', async (_what, flip, code, message) => {
    const real = env.deps().takeSnapshot;
    const io = fakeIo();
    const argv = ['--env', 'prod', '--green', '10', '--bake', '0', '--yes'];
    const result = await runShiftCommand(argv, io.io, () =>
      env.deps({
        takeSnapshot: async (...args) => {
          const snap = await real(...args);
          flip();
          return snap;
        },
      }),
    );
    expect(result).toBe(code);
    expect(mocks.rds).toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(io.out()).toMatch(/gates re-checked right before the change: closed/);
    expect(io.err()).toMatch(message);
    refusedBeforeTheChange(/gates closed right before the change: /);
  });

  it('the lease taken over by another writer during the prompt refuses with exit 13, leaving their lease', async () => {
    const io = fakeIo({
      tty: true,
      answers: ['prod'],
      onPrompt: () =>
        (env.lock = {
          owner: 'arn:aws:sts::333333333333:assumed-role/DataPlatformOperator/bob (bob-laptop pid 77)',
          acquiredAt: new Date(env.now).toISOString(),
          expiresAt: Math.floor(env.now / 1000) + 600,
          purpose: 'shift to blue 75% / green 25%',
        }),
    });
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '0'], io);
    expect(r.code).toBe(EXIT.LOCKED);
    expect(r.err).toMatch(/refused \(lease, exit 13\): /);
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(env.lock?.owner).toMatch(/bob/);
  });

  it('--force lifts only the alarms in ALARM at the preflight: one that fires during the prompt refuses', async () => {
    env.setAlarm('database-cpu-critical', 'ALARM');
    const io = fakeIo({
      tty: true,
      answers: ['prod'],
      onPrompt: () => env.setAlarm('routing-green-error-rate', 'ALARM'),
    });
    const r = await shift(
      ['--env', 'prod', '--green', '10', '--bake', '0', '--force', '--reason', 'CPU is the vacuum'],
      io,
    );
    expect(r.code).toBe(EXIT.CRITICAL_ALARM);
    expect(r.err).toMatch(/alarm pipeline-guardrails-prod-routing-green-error-rate is in ALARM/);
    expect(r.err).not.toMatch(/database-cpu-critical is in ALARM/);
    refusedBeforeTheChange(/gates closed after the confirmation/);
  });

  it('a shift that lowers green is not held back by green-side gates after the prompt', async () => {
    env.listener = { blue: 50, green: 50 };
    env.intent = { blue: 50, green: 50 };
    const io = fakeIo({
      tty: true,
      answers: ['prod'],
      onPrompt: () => (env.targets.green = []),
    });
    const r = await shift(['--env', 'prod', '--green', '0'], io);
    expect(r.code).toBe(EXIT.OK);
    expect(env.listener).toEqual({ blue: 100, green: 0 });
  });
});

describe('the bake watches the same signals as the plan (bake-signals.ts)', () => {
  it('a data-checks violation during the bake rolls back to 100% blue', async () => {
    env.onAlarmPoll = (poll) => {
      if (poll === 2)
        env.checks = {
          status: 'violation',
          checkedAt: new Date(env.now).toISOString(),
          problems: ['games: rows lost 12 (noDecrease)'],
        };
    };
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '5m', '--yes']);
    expect(r.code).toBe(EXIT.ROLLED_BACK);
    expect(r.out).toMatch(
      /watching pipeline-guardrails-prod-critical-any, .*, green's target health and the data checks/,
    );
    expect(r.out).toMatch(
      /green failed during the bake: data checks: run at .* found a violation: games: rows lost 12 \(noDecrease\); rolling back to 100% blue/,
    );
    expect(env.listener).toEqual({ blue: 100, green: 0 });
    expect(env.lock).toBeUndefined();
  });

  it('a late checks result alone does not roll back (the heartbeat alarm reaches the bake through critical-any)', async () => {
    env.onAlarmPoll = (poll) => {
      if (poll === 2)
        env.checks = { status: 'ok', checkedAt: new Date(env.now - 7_200_000).toISOString(), problems: [] };
    };
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '5m', '--yes']);
    expect(r.code).toBe(EXIT.OK);
    expect(env.listener).toEqual({ blue: 90, green: 10 });
  });
});

describe('preflight refusals (each with its own exit code, nothing changed)', () => {
  const unchanged = () => {
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(mocks.ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(mocks.rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(env.lock).toBeUndefined();
  };

  it('a critical alarm in ALARM, named', async () => {
    env.setAlarm('checks-rows-lost-games', 'ALARM');
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.CRITICAL_ALARM);
    expect(r.err).toMatch(
      /refused \(critical-any, exit 10\): alarm pipeline-guardrails-prod-critical-any is in ALARM \(critical in ALARM: pipeline-guardrails-prod-checks-rows-lost-games\)/,
    );
    unchanged();
    // The refusal is audited with what was asked for.
    expect(env.audit[0]).toMatchObject({
      outcome: 'refused',
      from: { blue: 100, green: 0 },
      to: { blue: 90, green: 10 },
    });
  });

  it("a warning alarm elsewhere does not block, but one of green's own alarms does", async () => {
    env.setAlarm('routing-throughput', 'ALARM');
    env.setAlarm('routing-green-unhealthy-hosts', 'ALARM');
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.CRITICAL_ALARM);
    expect(r.err).toMatch(
      /refused \(alarms, exit 10\): alarm pipeline-guardrails-prod-routing-green-unhealthy-hosts is in ALARM \(/,
    );
    expect(r.err).not.toMatch(/routing-throughput/);
  });

  it('--force --reason overrides the alarm gate only, and is recorded and announced', async () => {
    env.setAlarm('database-cpu-critical', 'ALARM');
    const r = await shift([
      '--env',
      'prod',
      '--green',
      '10',
      '--bake',
      '1m',
      '--yes',
      '--force',
      '--reason',
      'CPU alarm is the nightly vacuum',
    ]);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toMatch(
      /FORCE alarms in ALARM, overridden \("CPU alarm is the nightly vacuum"\): pipeline-guardrails-prod-critical-any, pipeline-guardrails-prod-database-cpu-critical/,
    );
    expect(env.audit[0]).toMatchObject({
      outcome: 'applied',
      forced: true,
      reason: 'CPU alarm is the nightly vacuum',
      detail: expect.stringContaining('forced past: pipeline-guardrails-prod-critical-any'),
      alarmStates: expect.objectContaining({ 'pipeline-guardrails-prod-database-cpu-critical': 'ALARM' }),
    });
    expect(env.published[0]!.Message).toContain('FORCED: CPU alarm is the nightly vacuum');
  });

  it('a watched alarm that does not exist closes its gate, and --force does not lift it', async () => {
    env.alarms.delete('pipeline-guardrails-prod-critical-any');
    const r = await shift(['--env', 'prod', '--green', '10', '--yes', '--force', '--reason', 'x']);
    expect(r.code).toBe(EXIT.CRITICAL_ALARM);
    expect(r.out).toContain('  FAIL  alarm pipeline-guardrails-prod-critical-any does not exist');
    expect(r.err).toBe(
      'refused (critical-any, exit 10): alarm pipeline-guardrails-prod-critical-any does not exist (is the environment deployed?)\n',
    );
    unchanged();
  });

  it('--force does not lift the other gates', async () => {
    env.targets.green = ['unhealthy', 'draining'];
    const r = await shift(['--env', 'prod', '--green', '10', '--yes', '--force', '--reason', 'x']);
    expect(r.code).toBe(EXIT.GREEN_UNHEALTHY);
    expect(r.err).toMatch(
      /refused \(green-health, exit 11\): green: no healthy target in its target group \(1 unhealthy, 1 draining\)/,
    );
    unchanged();
  });

  it('raising green from above 0 needs evidence: an alarm of green in INSUFFICIENT_DATA is never a pass', async () => {
    env.listener = { blue: 90, green: 10 };
    env.intent = { blue: 90, green: 10 };
    env.setAlarm('routing-green-error-rate', 'INSUFFICIENT_DATA');
    const r = await shift(['--env', 'prod', '--green', '25', '--yes']);
    expect(r.code).toBe(EXIT.NO_EVIDENCE);
    expect(r.err).toMatch(
      /refused \(evidence, exit 17\): alarm pipeline-guardrails-prod-routing-green-error-rate is INSUFFICIENT_DATA: .*wait until green has served enough requests/,
    );
    unchanged();
  });

  it('refuses to raise green again before its alarms could fire (a --bake 0 shift, then the next one)', async () => {
    const first = await shift(['--env', 'prod', '--green', '10', '--yes', '--bake', '0s']);
    expect(first.code).toBe(EXIT.OK);
    env.now += 60_000;
    const soon = await shift(['--env', 'prod', '--green', '25', '--yes', '--force', '--reason', 'hurry']);
    expect(soon.code).toBe(EXIT.NO_EVIDENCE);
    expect(soon.err).toMatch(
      /refused \(evidence, exit 17\): green was raised \d+s ago .*: its alarms need 180s .*raise it again in \d+s.*never the wait/,
    );
    expect(env.listener).toEqual({ blue: 90, green: 10 });
    env.now += 180_000;
    const later = await shift(['--env', 'prod', '--green', '25', '--yes', '--bake', '0s']);
    expect(later.code).toBe(EXIT.OK);
    expect(env.listener).toEqual({ blue: 75, green: 25 });
  });

  it('needs no evidence for the first step (green at 0) nor to lower green', async () => {
    env.setAlarm('routing-green-error-rate', 'INSUFFICIENT_DATA');
    const first = await shift(['--env', 'prod', '--green', '10', '--yes', '--bake', '0s']);
    expect(first.code).toBe(EXIT.OK);
    env.listener = { blue: 75, green: 25 };
    env.intent = { blue: 75, green: 25 };
    const lower = await shift(['--env', 'prod', '--green', '10', '--yes', '--bake', '0s']);
    expect(lower.code).toBe(EXIT.OK);
    expect(env.listener).toEqual({ blue: 90, green: 10 });
  });

  it('green with no targets at all', async () => {
    env.targets.green = [];
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.GREEN_UNHEALTHY);
    expect(r.err).toMatch(/none registered/);
  });

  it('moving traffic back to blue does not need a healthy green', async () => {
    env.listener = { blue: 50, green: 50 };
    env.intent = { blue: 50, green: 50 };
    env.targets.green = [];
    expect((await shift(['--env', 'prod', '--green', '0', '--yes'])).code).toBe(EXIT.OK);
  });

  it.each([
    [
      'a violation',
      () =>
        (env.checks = {
          status: 'violation',
          checkedAt: new Date(env.now - 60_000).toISOString(),
          problems: ['games: rows lost 3 (noDecrease)'],
        }),
      /data checks: last run \(.*\) reported violation: games: rows lost 3 \(noDecrease\)/,
    ],
    [
      'an error',
      () =>
        (env.checks = {
          status: 'error',
          checkedAt: new Date(env.now - 60_000).toISOString(),
          problems: ['connect ETIMEDOUT'],
        }),
      /data checks: last run \(.*\) reported error: connect ETIMEDOUT/,
    ],
    [
      'a stale summary',
      () =>
        (env.checks = { status: 'ok', checkedAt: new Date(env.now - 3_600_000).toISOString(), problems: [] }),
      /data checks: last result is from .* \(3600s ago\), expected one within 900s/,
    ],
    ['no summary', () => (env.checks = undefined), /data checks: no result recorded yet/],
  ])('data checks with %s', async (_name, arrange, message) => {
    arrange();
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.CHECKS_NOT_CLEAN);
    expect(r.err).toMatch(message);
    unchanged();
  });

  it('another shift holding the lock', async () => {
    env.lock = {
      pk: 'shift#lock',
      sk: 'lock',
      owner: 'arn:aws:sts::333333333333:assumed-role/DataPlatformOperator/bob (bob-laptop pid 77)',
      acquiredAt: '2026-11-26T01:55:00.000Z',
      expiresAt: Math.floor(env.now / 1000) + 600,
      purpose: 'shift to blue 75% / green 25%',
    };
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.LOCKED);
    expect(r.err).toMatch(
      /another shift is in progress: locked by .*bob \(bob-laptop pid 77\) since 2026-11-26T01:55:00.000Z for "shift to blue 75% \/ green 25%"/,
    );
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(env.lock.owner).toMatch(/bob/);
  });

  it('an expired lock is taken over', async () => {
    env.lock = {
      pk: 'shift#lock',
      sk: 'lock',
      owner: 'crashed',
      acquiredAt: 'x',
      expiresAt: Math.floor(env.now / 1000) - 1,
      purpose: 'x',
    };
    expect((await shift(['--env', 'prod', '--green', '10', '--bake', '0', '--yes'])).code).toBe(EXIT.OK);
  });

  it('a weighted rule with a third target group is refused, naming it, before any write (issue 11, item 9)', async () => {
    const rules = await new ElasticLoadBalancingV2Client({ region: 'us-east-1' }).send(
      new DescribeRulesCommand({}),
    );
    rules.Rules![1]!.Actions![0]!.ForwardConfig!.TargetGroups!.push({
      TargetGroupArn: 'arn:tg/canary',
      Weight: 5,
    });
    mocks.elbv2.on(DescribeRulesCommand).resolves(rules);
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.INVALID_WEIGHTS);
    expect(r.err).toMatch(
      /refused: .*also forwards to tg\/canary \(weight 5\), which is neither blue nor green/,
    );
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('a record of intent that disagrees with the rule is shown and both are rewritten (issue 11, item 1)', async () => {
    env.intent = { blue: 80, green: 20 };
    const r = await shift(['--env', 'prod', '--green', '0', '--yes']);
    expect(r.out).toMatch(
      /record of intent says blue 80% \/ green 20% .* but the listener rule applies blue 100% \/ green 0%/,
    );
    expect(r.code).toBe(EXIT.OK);
    expect(env.intent?.weights).toEqual({ blue: 100, green: 0 });
  });

  it('credentials for another account', async () => {
    env.callerAccount = '999999999999';
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.WRONG_ACCOUNT);
    expect(r.err).toMatch(/credentials are for account 999999999999 .* but prod is account 333333333333/);
  });

  it('no credentials: exit 1 with a hint, nothing changed', async () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    mocks.sts.on(GetCallerIdentityCommand).rejects(noCredentials);
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.FAILED);
    // The one error formatter's message and hint (cli/errors.ts), no stack trace.
    expect(r.err).toBe(
      'error: no AWS credentials found (Could not load credentials from any providers)\n' +
        'hint: sign in for the prod account: aws sso login --profile <profile> and export AWS_PROFILE=<profile> (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)\n',
    );
    expect(mocks.elbv2.calls()).toHaveLength(0);
  });

  it.each([
    [
      'expired credentials',
      () =>
        mocks.sts
          .on(GetCallerIdentityCommand)
          .rejects(awsError('ExpiredToken', 'The security token included in the request is expired')),
      /error: AWS rejected the credentials \(ExpiredToken: .*\)\nhint: they are expired .*prod account/,
    ],
    [
      'a call IAM does not allow, after the lease was taken',
      () =>
        mocks.cloudwatch
          .on(DescribeAlarmsCommand)
          .rejects(awsError('AccessDenied', 'not authorized to perform: cloudwatch:DescribeAlarms')),
      /error: AWS denied the call \(AccessDenied: .*\)\nhint: use credentials of a role in the prod account/,
    ],
    [
      'no network',
      () =>
        mocks.sts.on(GetCallerIdentityCommand).rejects(
          Object.assign(new Error('getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com'), {
            code: 'ENOTFOUND',
          }),
        ),
      /error: AWS could not be reached \(ENOTFOUND: .*\)\nhint: check the network/,
    ],
  ])(
    '%s: exit 1 through the one error formatter, no stack trace, lease released',
    async (_what, arrange, message) => {
      arrange();
      const r = await shift(['--env', 'prod', '--green', '10', '--yes', '--json']);
      expect(r.code).toBe(EXIT.FAILED);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(JSON.parse(r.out)).toMatchObject({ exitCode: EXIT.FAILED, failure: expect.any(String) });
      expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(env.lock).toBeUndefined();
    },
  );

  it('routing not deployed', async () => {
    env.params.delete(`${env.root}/routing/listener-arn`);
    const r = await shift(['--env', 'prod', '--green', '10', '--yes']);
    expect(r.code).toBe(EXIT.NOT_DEPLOYED);
    expect(r.err).toMatch(/parameter \/pipeline-guardrails\/prod\/routing\/listener-arn not found/);
  });
});

describe('--dry-run', () => {
  it('runs the preflight and shows the plan, changing nothing', async () => {
    const r = await shift(['--env', 'prod', '--green', '10', '--dry-run']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('shift prod: blue 100% / green 0% -> blue 90% / green 10%  (dry run)');
    expect(r.out).toMatch(/snapshot nba-analytics-prod first/);
    expect(r.out).toContain('dry run: nothing changed');
    expect(mocks.elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(mocks.doc).not.toHaveReceivedCommand(PutCommand);
    expect(mocks.rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(mocks.sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('reports the refusal it would meet, with its exit code', async () => {
    env.setAlarm('routing-blue-latency-p95', 'ALARM');
    const r = await shift(['--env', 'prod', '--green', '10', '--dry-run']);
    expect(r.code).toBe(EXIT.CRITICAL_ALARM);
    expect(mocks.doc).not.toHaveReceivedCommand(PutCommand);
  });
});

describe('--rollback', () => {
  it('sets 100% blue at once: no preflight, no lock, no confirmation; recorded and announced', async () => {
    env.listener = { blue: 50, green: 50 };
    env.intent = { blue: 50, green: 50 };
    env.setAlarm('checks-rows-lost-games', 'ALARM');
    env.lock = {
      pk: 'shift#lock',
      sk: 'lock',
      owner: 'someone baking',
      acquiredAt: 'x',
      expiresAt: Math.floor(env.now / 1000) + 600,
      purpose: 'x',
    };
    const r = await shift(['--env', 'prod', '--rollback', '--reason', 'green drops submissions']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toMatch(
      /^rollback prod: blue 50% \/ green 50% -> blue 100% \/ green 0% \(listener read back, 0s\)$/m,
    );
    expect(env.listener).toEqual({ blue: 100, green: 0 });
    expect(env.intent?.weights).toEqual({ blue: 100, green: 0 });
    expect(mocks.cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
    expect(env.audit[0]).toMatchObject({
      kind: 'rollback',
      outcome: 'applied',
      reason: 'green drops submissions',
      from: { blue: 50, green: 50 },
    });
    expect(env.published[0]!.Subject).toBe('[pipeline-guardrails prod] ROLLBACK: green 50% -> 0%');
    expect(env.lock?.owner).toBe('someone baking');
  });
});

describe('--rollback during a rollout plan', () => {
  const SM = 'arn:aws:states:us-east-1:333333333333:stateMachine:pipeline-guardrails-prod-rollout';
  const EXEC = 'arn:aws:states:us-east-1:333333333333:execution:pipeline-guardrails-prod-rollout:plan-1';

  beforeEach(() => {
    env.params.set(`${env.root}/rollout/state-machine-arn`, SM);
    env.listener = { blue: 75, green: 25 };
  });

  it('marks the plan aborting before moving traffic, then stops its execution', async () => {
    mocks.doc
      .on(UpdateCommand)
      .resolves({ Attributes: { pk: 'rollout#plan', sk: 'current', status: 'aborting' } });
    mocks.sfn
      .on(ListExecutionsCommand)
      .resolves({ executions: [{ executionArn: EXEC, status: 'RUNNING' } as never] });
    mocks.sfn.on(StopExecutionCommand).resolves({});
    const r = await shift(['--env', 'prod', '--rollback', '--reason', 'p95 climbing']);
    expect(r.code).toBe(EXIT.OK);
    expect(env.listener).toEqual({ blue: 100, green: 0 });
    expect(mocks.doc).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':aborting': 'aborting' }),
    });
    const [update] = mocks.doc.commandCalls(UpdateCommand);
    const [modify] = mocks.elbv2.commandCalls(ModifyRuleCommand);
    expect(update!.calledBefore(modify!)).toBe(true);
    expect(mocks.sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: EXEC });
    expect(r.out).toContain('stopped rollout plan plan-1');
  });

  it('still rolls back when the plan cannot be stopped, and exits non-zero saying to run it again', async () => {
    mocks.doc.on(UpdateCommand).rejects(new Error('AccessDenied'));
    mocks.sfn.on(ListExecutionsCommand).rejects(new Error('Throttling'));
    const r = await shift(['--env', 'prod', '--rollback']);
    expect(r.code).toBe(EXIT.APPLY_FAILED);
    expect(env.listener).toEqual({ blue: 100, green: 0 });
    expect(r.err).toContain('could not mark the rollout plan aborting: AccessDenied');
    expect(r.err).toContain("could not stop the rollout plan's execution: Throttling");
    expect(r.err).toContain('run it again (it converges): npm run shift -- --env prod --rollback');
  });
});

describe('--json', () => {
  it('prints one JSON object on stdout, progress on stderr', async () => {
    const r = await shift(['--env', 'prod', '--green', '10', '--bake', '2m', '--yes', '--json']);
    expect(r.code).toBe(EXIT.OK);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({
      command: 'shift',
      env: 'prod',
      from: { blue: 100, green: 0 },
      to: { blue: 90, green: 10 },
      after: { blue: 90, green: 10 },
      outcome: 'applied',
      exitCode: 0,
      snapshot: { snapshotId: 'pipeline-guardrails-prod-pre-shift-20261126t020000z', status: 'available' },
      bakeMs: 120_000,
    });
    expect(r.err).toContain('bake complete');
  });

  it('reports refusals with their gates and codes', async () => {
    env.checks = undefined;
    env.targets.green = [];
    const r = await shift(['--env', 'prod', '--green', '10', '--yes', '--json']);
    const result = JSON.parse(r.out);
    expect(result.exitCode).toBe(EXIT.GREEN_UNHEALTHY);
    expect(result.refusals.map((x: { gate: string; code: number }) => [x.gate, x.code])).toEqual([
      ['green-health', 11],
      ['data-checks', 12],
    ]);
  });
});

describe('--status', () => {
  it('shows weights (and drift), targets, checks, lock, last snapshot, alarms and recent shifts', async () => {
    await shift(['--env', 'prod', '--green', '10', '--bake', '0', '--yes']);
    env.now += 60_000;
    await shift(['--env', 'prod', '--rollback']);
    env.listener = { blue: 80, green: 20 }; // someone used the console
    const r = await shift(['--env', 'prod', '--status']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toMatch(
      /weights {3}listener rule blue 80% \/ green 20%; record of intent blue 100% \/ green 0% \(v\d+\) \(DISAGREE/,
    );
    expect(r.out).toMatch(
      /PROBLEMS\n +weights disagree: .*\n +repair: npm run shift -- --env prod --rollback/,
    );
    expect(r.out).toContain('targets   blue 2/2 healthy, green 2/2 healthy');
    expect(r.out).toContain(
      'services  blue 2/2 running pipeline-guardrails-prod-blue:7 (COMPLETED), green 2/2 running pipeline-guardrails-prod-green:12 (COMPLETED)',
    );
    expect(r.out).toMatch(
      /snapshot {2}pipeline-guardrails-prod-pre-shift-20261126t020000z available .*; last pre-shift pipeline-guardrails-prod-pre-shift-20261126t020000z/,
    );
    expect(r.out).toMatch(/OK {16}pipeline-guardrails-prod-routing-green-error-rate/);
    const shifts = r.out.split('recent shifts (newest first)\n')[1]!.trim().split('\n');
    expect(shifts[0]).toMatch(
      /rollback +green 10% -> 0% +applied +by arn:aws:sts::333333333333:assumed-role\/DataPlatformOperator\/alice/,
    );
    expect(shifts[1]).toMatch(
      /shift +green 0% -> 10% +applied .*snapshot pipeline-guardrails-prod-pre-shift/,
    );
    expect(mocks.elbv2).toHaveReceivedCommandTimes(ModifyRuleCommand, 2);
  });

  it('--status --json', async () => {
    const r = await shift(['--env', 'prod', '--status', '--json']);
    const result = JSON.parse(r.out);
    expect(result.weights).toEqual({ listener: { blue: 100, green: 0 }, intent: null, inSync: true });
    expect(result.problems).toEqual([]);
    expect(result.lock).toBeNull();
    expect(result.alarms).toHaveLength(7);
  });
});

describe('--status reports every broken state it can see, with the command that repairs it (issue 11)', () => {
  const SM = 'arn:aws:states:us-east-1:333333333333:stateMachine:pipeline-guardrails-prod-rollout';
  const problems = async () => {
    const r = await shift(['--env', 'prod', '--status', '--json']);
    return { ...r, result: JSON.parse(r.out) as { problems: string[]; outcome: string } };
  };

  it('a healthy environment has none', async () => {
    const { code, result } = await problems();
    expect(code).toBe(EXIT.OK);
    expect(result).toMatchObject({ problems: [], outcome: 'status' });
  });

  it('a lease whose writer stopped renewing it', async () => {
    env.lock = {
      owner: 'arn:aws:sts::333333333333:assumed-role/DataPlatformOperator/bob (bob-laptop pid 77)',
      acquiredAt: new Date(env.now - 3_600_000).toISOString(),
      expiresAt: Math.floor(env.now / 1000) - 600,
      purpose: 'shift to blue 75% / green 25%',
    };
    const { result } = await problems();
    expect(result.outcome).toBe('problems');
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^lease held by .*bob .* but not renewed since .*: its writer is gone\n +repair: npm run shift -- --env prod --rollback if traffic must go back; the next shift takes the lease over/,
      ),
    ]);
  });

  it('a plan item marked running with no execution behind it', async () => {
    env.params.set(`${env.root}/rollout/state-machine-arn`, SM);
    mocks.sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    env.items.set('rollout#plan|current', {
      pk: 'rollout#plan',
      sk: 'current',
      planId: 'plan-1',
      executionArn: `${SM}:plan-1`,
      status: 'running',
      phase: 'baking',
      steps: [10, 25],
      stepIndex: 0,
      bakeSeconds: 900,
      weights: { blue: 100, green: 0 },
      actor: 'alice',
      startedAt: new Date(env.now - 7_200_000).toISOString(),
      updatedAt: new Date(env.now - 7_200_000).toISOString(),
    });
    const { result } = await problems();
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^plan plan-1 is marked running but no execution runs \(stale plan item\)\n +repair: npm run shift -- --env prod --abort$/,
      ),
    ]);
  });

  it('an unexpected listener shape: exit 14, what was found and how to look', async () => {
    const rules = await new ElasticLoadBalancingV2Client({ region: 'us-east-1' }).send(
      new DescribeRulesCommand({}),
    );
    rules.Rules![1]!.Actions![0]!.ForwardConfig!.TargetGroups!.push({
      TargetGroupArn: 'arn:tg/canary',
      Weight: 5,
    });
    mocks.elbv2.on(DescribeRulesCommand).resolves(rules);
    const { code, result, err } = await problems();
    expect(code).toBe(EXIT.INVALID_WEIGHTS);
    expect(err).toMatch(/refused to call this healthy/);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^listener: the weighted rule also forwards to tg\/canary .*\n +repair: fix it as described \(see: aws elbv2 describe-rules --listener-arn arn:aws:elasticloadbalancing:.*\), then npm run shift -- --env prod --status$/,
      ),
    ]);
  });

  it.each([
    ['critical-any', 'checks-rows-lost-games', /pipeline-guardrails-prod-critical-any is in ALARM/],
    [
      "one of green's alarms",
      'routing-green-unhealthy-hosts',
      /while pipeline-guardrails-prod-routing-green-unhealthy-hosts is in ALARM/,
    ],
  ])(
    'green in traffic while %s is in ALARM (the automatic rollback has not acted)',
    async (_what, alarm, text) => {
      env.listener = { blue: 75, green: 25 };
      env.intent = { blue: 75, green: 25 };
      env.setAlarm(alarm, 'ALARM');
      const { result } = await problems();
      expect(result.problems).toEqual([
        expect.stringMatching(
          /^green takes 25% of traffic while .*\n +repair: npm run shift -- --env prod --rollback$/,
        ),
      ]);
      expect(result.problems[0]).toMatch(text);
    },
  );

  it('green in traffic with no healthy target', async () => {
    env.listener = { blue: 90, green: 10 };
    env.intent = { blue: 90, green: 10 };
    env.targets.green = ['unhealthy'];
    const { result } = await problems();
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^green takes 10% of traffic but has no healthy target \(1 registered\).*\n +repair: npm run shift -- --env prod --rollback$/,
      ),
    ]);
  });

  it('the same alarm in ALARM with green at 0% is not a problem of routing', async () => {
    env.setAlarm('routing-green-error-rate', 'ALARM');
    env.targets.green = [];
    expect((await problems()).result.problems).toEqual([]);
  });

  it('an alarm the gates watch that does not exist (every shift would be refused)', async () => {
    env.alarms.delete('pipeline-guardrails-prod-critical-any');
    const { result } = await problems();
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^alarm\(s\) the gates watch do not exist: pipeline-guardrails-prod-critical-any .*\n +repair: npx cdk deploy -c env=prod$/,
      ),
    ]);
  });
});

describe('progressive rollout flags', () => {
  it('are validated here and handed to the rollout command', async () => {
    const { runPlanCommand } = jest.requireMock('../../cli/shift/plan') as { runPlanCommand: jest.Mock };
    const r = await shift(['--env', 'prod', '--plan', '10,25,50,100', '--bake', '15m', '--yes']);
    expect(r.code).toBe(0);
    expect(runPlanCommand).toHaveBeenCalledWith(
      {
        envName: 'prod',
        plan: [10, 25, 50, 100],
        bakeMs: 900_000,
        follow: false,
        promote: false,
        full: false,
        abort: false,
        retry: false,
        json: false,
        yes: true,
        dryRun: false,
        reason: undefined,
        force: false,
      },
      expect.anything(),
    );
    expect(env.callCount()).toBe(0);
  });
});

/** An AWS API error as the SDK throws it (name = the error code, with $metadata and $fault). */
function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
  });
}
