import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runPlanCommand, type PlanCommandOptions, type PlanDeps } from '../../cli/shift/plan';
import { EXIT } from '../../cli/shift/exit-codes';
import { UsageError, type CliIo } from '../../cli/io';
import { CHECKS_SUMMARY_KEY } from '../../lambda/shared/checks-summary';
import { PLAN_KEY } from '../../lambda/shared/rollout-control';
import { LOCK_KEY } from '../../lambda/shared/shift-audit';
import {
  alarmStates,
  COMPOSITE,
  EXECUTION_ARN,
  GREEN_5XX,
  GREEN_P95,
  listener,
  planState,
  STATE_MACHINE_ARN,
  TABLE,
  TARGET,
} from '../lambda/rollout/fixtures';

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const ddb = mockClient(DynamoDBDocumentClient);
const cw = mockClient(CloudWatchClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const sns = mockClient(SNSClient);
const sts = mockClient(STSClient);

const START = Date.parse('2026-11-26T01:20:00.000Z');
let clock = START;
const deps: PlanDeps = {
  sfn: new SFNClient({}),
  ssm: new SSMClient({}),
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  cloudwatch: new CloudWatchClient({}),
  elbv2: new ElasticLoadBalancingV2Client({}),
  sns: new SNSClient({}),
  sts: new STSClient({}),
  clock: {
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  },
  pollIntervalMs: 5000,
  random: () => 'abc123',
};

function io(options: { isTTY?: boolean; answer?: string } = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const prompts: string[] = [];
  const cli: CliIo = {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    isTTY: options.isTTY ?? false,
    prompt: async (q) => {
      prompts.push(q);
      return options.answer ?? '';
    },
    env: {},
  };
  return { cli, out: () => stdout.join(''), err: () => stderr.join(''), prompts };
}

function opts(overrides: Partial<PlanCommandOptions>): PlanCommandOptions {
  return {
    envName: 'staging',
    follow: false,
    promote: false,
    abort: false,
    json: false,
    yes: false,
    dryRun: false,
    force: false,
    ...overrides,
  };
}

function deployed(envName = 'staging', extra: Record<string, string> = {}) {
  const p = (key: string, value: string) => ({
    Name: `/pipeline-guardrails/${envName}/${key}`,
    Value: value,
  });
  ssm.on(GetParametersByPathCommand).resolves({
    Parameters: [
      p('rollout/state-machine-arn', STATE_MACHINE_ARN),
      p('state/table-name', TABLE),
      p('routing/listener-arn', TARGET.listenerArn),
      p('routing/weighted-rule-arn', TARGET.ruleArn),
      p('routing/blue-target-group-arn', TARGET.blueTargetGroupArn),
      p('routing/green-target-group-arn', TARGET.greenTargetGroupArn),
      p('routing/green-alarm-names', `${GREEN_5XX},${GREEN_P95}`),
      p('alerting/critical-composite-alarm-name', COMPOSITE),
      p('alerting/warning-topic-arn', 'arn:aws:sns:us-east-1:111111111111:warning'),
      ...Object.entries(extra).map(([k, v]) => p(k, v)),
    ],
  });
}

function gatesOpen() {
  alarmStates(cw);
  ddb.on(GetCommand, { Key: CHECKS_SUMMARY_KEY }).resolves({
    Item: { status: 'ok', checkedAt: '2026-11-26T01:18:00.000Z', problems: [] },
  });
  ddb.on(GetCommand, { Key: LOCK_KEY }).resolves({});
  elbv2
    .on(DescribeTargetHealthCommand)
    .resolves({ TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }] });
  elbv2.on(DescribeRulesCommand).resolves(listener(100, 0));
}

const running = {
  executions: [
    {
      executionArn: EXECUTION_ARN,
      name: 'plan-1',
      stateMachineArn: STATE_MACHINE_ARN,
      status: 'RUNNING' as const,
      startDate: new Date(START),
    },
  ],
};

beforeEach(() => {
  for (const m of [sfn, ssm, ddb, cw, elbv2, sns, sts]) m.reset();
  clock = START;
  deployed();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111111111111:assumed-role/ops/alice' });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  ddb.on(GetCommand).resolves({});
  ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({ Attributes: planState() });
  ddb.on(DeleteCommand).resolves({});
  sns.on(PublishCommand).resolves({});
  ssm.on(PutParameterCommand).resolves({});
  elbv2.on(ModifyRuleCommand).resolves({});
});

const noAwsCall = () => {
  for (const m of [sfn, ssm, ddb, cw, elbv2, sns, sts]) expect(m).not.toHaveReceivedAnyCommand();
};

describe('bad arguments fail before any AWS call', () => {
  it.each([
    [{}, /nothing to do: give --plan <steps>, --follow, --promote, --abort or --retry/],
    [{ follow: true, abort: true }, /choose one of --follow, --abort/],
    [{ plan: [50, 25] }, /--plan step 2: got 25 after 50/],
    [{ plan: [10, 100], bakeMs: 7 * 3600_000 }, /--bake: got 25200 seconds, expected 180 to 21600/],
    [{ plan: [10, 100], bakeMs: 1500 }, /--bake: got 1500 ms, expected whole seconds/],
    [{ follow: true, bakeMs: 60_000 }, /--bake applies to --plan and --retry only/],
    [{ abort: true, force: true, reason: 'x' }, /--force applies to --plan only/],
    [{ plan: [10, 100], force: true }, /--force needs --reason/],
    [{ follow: true, dryRun: true }, /--dry-run with --follow/],
  ])('%o', async (o, message) => {
    const { cli } = io();
    await expect(runPlanCommand(opts(o), cli, deps)).rejects.toThrow(UsageError);
    await expect(runPlanCommand(opts(o), cli, deps)).rejects.toThrow(message);
    noAwsCall();
  });
});

describe('--plan', () => {
  it('starts an execution with the plan and follows it to the end, printing each step', async () => {
    gatesOpen();
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: new Date(START) });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolves({ status: 'SUCCEEDED' } as never);
    const name = 'plan-20261126t012000z-abc123';
    ddb
      .on(GetCommand, { Key: PLAN_KEY })
      .resolvesOnce({}) // the "is a plan running?" check before the start
      .resolvesOnce({
        Item: planState({ planId: name, phase: 'snapshot', snapshotId: 'snap-1', stepIndex: -1 }),
      })
      .resolvesOnce({
        Item: planState({
          planId: name,
          stepIndex: 0,
          weights: { blue: 90, green: 10 },
          bakeUntil: '2026-11-26T01:35:00.000Z',
        }),
      })
      .resolves({
        Item: planState({
          planId: name,
          status: 'succeeded',
          phase: 'done',
          stepIndex: 3,
          weights: { blue: 0, green: 100 },
        }),
      });
    const { cli, out } = io();

    const code = await runPlanCommand(
      opts({ plan: [10, 25, 50, 100], bakeMs: 900_000, reason: 'cutover' }),
      cli,
      deps,
    );

    expect(code).toBe(EXIT.OK);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name,
      input: JSON.stringify({
        request: {
          steps: [10, 25, 50, 100],
          bakeSeconds: 900,
          actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice',
          reason: 'cutover',
          forcedAlarms: [],
        },
      }),
    });
    const text = out();
    expect(text).toContain(
      'Rollout plan for staging: 10% -> 25% -> 50% -> 100% (green), bake 15m per step, at least 1h in all',
    );
    expect(text).toContain('Ctrl-C only detaches');
    expect(text).toContain('taking the pre-shift snapshot snap-1');
    expect(text).toContain('step 1/4: blue 90% / green 10%, baking, 14m55s left | alarms: all 3 OK');
    expect(text).toContain('finished: blue 0% / green 100%');
    // Nothing moved traffic from the laptop: the state machine does.
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('refuses while another plan runs (one plan per environment)', async () => {
    gatesOpen();
    sfn.on(ListExecutionsCommand).resolves(running);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState() });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ plan: [10, 100] }), cli, deps)).toBe(EXIT.LOCKED);
    expect(err()).toContain('rollout plan plan-1 is already running (step 2/4: blue 75% / green 25%, baking');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('refuses over a plan item left running without an execution, and says how to clear it', async () => {
    gatesOpen();
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState() });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ plan: [10, 100] }), cli, deps)).toBe(EXIT.LOCKED);
    expect(err()).toContain('plan plan-1 is still marked running but no execution runs');
    expect(err()).toContain('--abort');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('refuses while a manual shift holds the lock', async () => {
    gatesOpen();
    ddb.on(GetCommand, { Key: LOCK_KEY }).resolves({
      Item: { owner: 'bob@laptop', purpose: 'shift to 25%', expiresAt: START / 1000 + 600 },
    });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ plan: [10, 100] }), cli, deps)).toBe(EXIT.LOCKED);
    expect(err()).toContain('the shift lock is held by bob@laptop for "shift to 25%"');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('refuses on a critical alarm, naming it; --force --reason starts anyway and records the forced alarms', async () => {
    gatesOpen();
    alarmStates(cw, { [COMPOSITE]: 'ALARM' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' } as never);
    const refused = io();
    expect(await runPlanCommand(opts({ plan: [10, 100] }), refused.cli, deps)).toBe(EXIT.CRITICAL_ALARM);
    expect(refused.err()).toContain(`alarm ${COMPOSITE} is in ALARM`);
    expect(refused.err()).toContain('--force --reason');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);

    const forced = io();
    const code = await runPlanCommand(
      opts({ plan: [10, 100], force: true, reason: 'known noisy alarm' }),
      forced.cli,
      deps,
    );
    expect(code).toBe(EXIT.OK);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!) as {
      request: { forcedAlarms: string[] };
    };
    expect(input.request.forcedAlarms).toEqual([COMPOSITE]);
    expect(forced.out()).toContain(
      `FORCED past alarms in ALARM (recorded, reason: known noisy alarm): ${COMPOSITE}`,
    );
  });

  it('--force does not override the data checks', async () => {
    gatesOpen();
    ddb.on(GetCommand, { Key: CHECKS_SUMMARY_KEY }).resolves({
      Item: { status: 'violation', checkedAt: '2026-11-26T01:18:00.000Z', problems: ['games: rows lost 3'] },
    });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ plan: [10, 100], force: true, reason: 'x' }), cli, deps)).toBe(
      EXIT.CHECKS_NOT_CLEAN,
    );
    expect(err()).toContain('games: rows lost 3');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('refuses when green has no healthy target', async () => {
    gatesOpen();
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    const { cli } = io();
    expect(await runPlanCommand(opts({ plan: [10, 100] }), cli, deps)).toBe(EXIT.GREEN_UNHEALTHY);
  });

  it('--dry-run evaluates the gates and starts nothing', async () => {
    gatesOpen();
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ plan: [10, 100], dryRun: true }), cli, deps)).toBe(EXIT.OK);
    expect(out()).toContain('dry run: gates open; would start the plan. Nothing changed.');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('prod: refuses without a terminal and without --yes; asks on a terminal', async () => {
    deployed('prod');
    gatesOpen();
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' } as never);

    const noTty = io();
    expect(await runPlanCommand(opts({ envName: 'prod', plan: [10, 100] }), noTty.cli, deps)).toBe(
      EXIT.NOT_CONFIRMED,
    );
    expect(noTty.err()).toContain('pass --yes');

    const declined = io({ isTTY: true, answer: 'n' });
    expect(await runPlanCommand(opts({ envName: 'prod', plan: [10, 100] }), declined.cli, deps)).toBe(
      EXIT.NOT_CONFIRMED,
    );
    expect(declined.prompts).toEqual(['Start rollout plan 10% -> 100% in prod? [y/N] ']);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);

    const accepted = io({ isTTY: true, answer: 'y' });
    expect(await runPlanCommand(opts({ envName: 'prod', plan: [10, 100] }), accepted.cli, deps)).toBe(
      EXIT.OK,
    );
    const withYes = io();
    expect(
      await runPlanCommand(opts({ envName: 'prod', plan: [10, 100], yes: true }), withYes.cli, deps),
    ).toBe(EXIT.OK);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
  });
});

describe('--follow', () => {
  it('re-attaches to the running plan and reports an alarm rollback with its cause (exit 20)', async () => {
    alarmStates(cw, { [GREEN_5XX]: 'ALARM' });
    sfn.on(ListExecutionsCommand).resolves(running);
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolves({ status: 'FAILED' } as never);
    ddb
      .on(GetCommand, { Key: PLAN_KEY })
      .resolvesOnce({ Item: planState() })
      .resolvesOnce({ Item: planState() })
      .resolves({
        Item: planState({
          status: 'rolled-back',
          phase: 'done',
          weights: { blue: 100, green: 0 },
          cause: `AlarmFiring: alarm in ALARM: ${GREEN_5XX}`,
        }),
      });
    const { cli, out, err } = io();

    expect(await runPlanCommand(opts({ follow: true }), cli, deps)).toBe(EXIT.ROLLED_BACK);
    expect(out()).toContain(`alarms: ${GREEN_5XX} ALARM`);
    expect(err()).toContain(
      `Plan plan-1 rolled-back: traffic blue 100% / green 0%. Cause: AlarmFiring: alarm in ALARM: ${GREEN_5XX}`,
    );
  });

  it('--json prints one final JSON document on stdout and the progress on stderr', async () => {
    alarmStates(cw);
    sfn.on(ListExecutionsCommand).resolves(running);
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolves({ status: 'SUCCEEDED' } as never);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({
      Item: planState({ status: 'succeeded', phase: 'done', weights: { blue: 0, green: 100 } }),
    });
    const { cli, out, err } = io();
    expect(await runPlanCommand(opts({ follow: true, json: true }), cli, deps)).toBe(EXIT.OK);
    expect(JSON.parse(out())).toMatchObject({
      planId: 'plan-1',
      executionStatus: 'SUCCEEDED',
      planStatus: 'succeeded',
      weights: { blue: 0, green: 100 },
    });
    expect(err()).toContain('succeeded');
  });

  it('says so when no plan runs', async () => {
    ddb
      .on(GetCommand, { Key: PLAN_KEY })
      .resolves({ Item: planState({ status: 'aborted', phase: 'done', cause: 'aborted by alice' }) });
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ follow: true }), cli, deps)).toBe(EXIT.OK);
    expect(out()).toContain(
      'No rollout plan is running. The last one, plan-1, ended aborted (aborted by alice).',
    );
    expect(sfn).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });
});

describe('--promote', () => {
  it('asks the running plan to end the current bake', async () => {
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState() });
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ promote: true }), cli, deps)).toBe(EXIT.OK);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: PLAN_KEY,
      UpdateExpression:
        'SET promoteStep = :step, promoteFull = :full, promoteWaivesEvidence = :waive, promotedBy = :actor, updatedAt = :now',
      ExpressionAttributeValues: expect.objectContaining({ ':step': 1, ':planId': 'plan-1', ':full': false }),
    });
    expect(out()).toContain(
      'it will end the bake of step 2/4 (blue 75% / green 25%) at the next check (within 30s)',
    );
  });

  it('refuses when no plan is baking', async () => {
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ phase: 'snapshot' }) });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ promote: true }), cli, deps)).toBe(EXIT.FAILED);
    expect(err()).toContain('nothing to promote: plan plan-1 is running (snapshot)');
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('--abort', () => {
  it('abort mid-step: marks the plan, stops the execution, sets 100% blue from the CLI, records and announces', async () => {
    const order: string[] = [];
    sfn.on(ListExecutionsCommand).resolves(running);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState({ phase: 'applying' }) });
    ddb.on(UpdateCommand).callsFake((input: { UpdateExpression?: string }) => {
      order.push(input.UpdateExpression?.includes(':aborting') ? 'mark' : 'close');
      return { Attributes: planState({ status: 'aborting' }) };
    });
    sfn.on(StopExecutionCommand).callsFake(() => {
      order.push('stop');
      return {};
    });
    elbv2.on(ModifyRuleCommand).callsFake(() => {
      order.push('blue');
      return {};
    });
    elbv2.on(DescribeRulesCommand).resolvesOnce(listener(75, 25)).resolves(listener(100, 0));
    const { cli, out, err } = io();

    const code = await runPlanCommand(opts({ abort: true, reason: 'green looks slow' }), cli, deps);
    expect(err()).toBe('');
    expect(code).toBe(EXIT.OK);

    expect(order).toEqual(['mark', 'stop', 'blue', 'close']);
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: EXECUTION_ARN });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        kind: 'plan-abort',
        outcome: 'rolled-back',
        from: { blue: 75, green: 25 },
        to: { blue: 100, green: 0 },
        reason: 'green looks slow',
        actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice',
      }),
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: LOCK_KEY });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: expect.stringContaining('rollout plan aborted'),
    });
    expect(out()).toContain('Traffic: blue 75% / green 25% -> blue 100% / green 0%');
  });

  it('does not ask for confirmation in prod (it is the emergency brake)', async () => {
    deployed('prod');
    sfn.on(ListExecutionsCommand).resolves(running);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState() });
    elbv2.on(DescribeRulesCommand).resolvesOnce(listener(75, 25)).resolves(listener(100, 0));
    sfn.on(StopExecutionCommand).resolves({});
    const { cli, prompts } = io();
    expect(await runPlanCommand(opts({ envName: 'prod', abort: true }), cli, deps)).toBe(EXIT.OK);
    expect(prompts).toEqual([]);
    expect(elbv2).toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('leaves traffic alone when no plan runs', async () => {
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ abort: true }), cli, deps)).toBe(EXIT.OK);
    expect(out()).toContain('No rollout plan is running in staging; traffic untouched');
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('--dry-run changes nothing', async () => {
    sfn.on(ListExecutionsCommand).resolves(running);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({ Item: planState() });
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ abort: true, dryRun: true }), cli, deps)).toBe(EXIT.OK);
    expect(out()).toContain('dry run: would stop plan plan-1 and set blue 100% / green 0%');
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(elbv2).not.toHaveReceivedCommand(ModifyRuleCommand);
  });
});

describe('evidence before promotion, pause, promote --full and --retry (CLI side)', () => {
  it('parses pause steps and refuses a bake shorter than the alarms need, before any AWS call', async () => {
    const { parseShiftArgs } = await import('../../cli/shift/options');
    const parsed = parseShiftArgs(['--env', 'staging', '--plan', '10,pause,25,50,100']);
    expect(parsed).toMatchObject({ mode: 'plan', plan: { plan: [10, 25, 50, 100], pauses: [0] } });
    expect(() => parseShiftArgs(['--env', 'staging', '--plan', 'pause,10,100'])).toThrow(
      /a pause cannot come first/,
    );
    expect(() => parseShiftArgs(['--env', 'staging', '--plan', '10,100,pause'])).toThrow(
      /a pause cannot come last \(nothing to promote to after it\)/,
    );
    expect(() => parseShiftArgs(['--env', 'staging', '--plan', '10,pause,pause,100'])).toThrow(
      /a pause cannot come after another pause/,
    );
    expect(() => parseShiftArgs(['--env', 'staging', '--follow', '--full'])).toThrow(
      /--full applies to --promote only/,
    );
    await expect(runPlanCommand(opts({ plan: [10, 100], bakeMs: 0 }), io().cli, deps)).rejects.toThrow(
      /--bake: got 0s, expected at least 180s: green's alarms need 2 one-minute datapoints/,
    );
    noAwsCall();
  });

  it('starts a plan with a pause step; the default bake is raised to the 3-minute minimum', async () => {
    gatesOpen();
    deployed('staging', { 'routing/bake-seconds': '60' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' } as never);
    const { cli, out } = io();
    await runPlanCommand(opts({ plan: [10, 25, 100], pauses: [0] }), cli, deps);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input.request).toMatchObject({ steps: [10, 25, 100], pauses: [0], bakeSeconds: 180 });
    expect(out()).toContain('10% -> pause -> 25% -> 100% (green), bake 3m per step');
    expect(out()).toContain('without it the step waits up to 30m more, then the plan PAUSES for --promote');
  });

  it('refuses to go higher with green in traffic while its alarms have no evidence (INSUFFICIENT_DATA): exit NO_EVIDENCE', async () => {
    gatesOpen();
    elbv2.on(DescribeRulesCommand).resolves(listener(90, 10));
    alarmStates(cw, { [GREEN_5XX]: 'INSUFFICIENT_DATA' });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ plan: [25, 100] }), cli, deps)).toBe(EXIT.NO_EVIDENCE);
    expect(err()).toContain(`alarm ${GREEN_5XX} is INSUFFICIENT_DATA: not enough evidence`);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('at 0% green the same INSUFFICIENT_DATA does not hold the first step (green cannot have evidence yet)', async () => {
    gatesOpen();
    alarmStates(cw, { [GREEN_5XX]: 'INSUFFICIENT_DATA' });
    const { cli } = io();
    expect(await runPlanCommand(opts({ plan: [10, 100], dryRun: true }), cli, deps)).toBe(EXIT.OK);
  });

  it('--follow exits PAUSED with what to type when the plan waits for a person', async () => {
    sfn.on(ListExecutionsCommand).resolves(running);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' } as never);
    alarmStates(cw);
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({
      Item: planState({
        phase: 'paused',
        pauseReason: 'evidence',
        pausedAt: '2026-11-26T01:15:00.000Z',
        evidence: 'green served 37 of the 100 requests required',
      }),
    });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ follow: true }), cli, deps)).toBe(EXIT.PAUSED);
    expect(err()).toContain(
      'step 2/4: blue 75% / green 25%, PAUSED (not enough evidence) for 5m, waiting for --promote: not enough evidence (green served 37 of the 100 requests required)',
    );
    expect(err()).toContain('--promote      (all steps: --promote --full)');
  });

  it('--promote on a paused plan waives the missing evidence, --full skips to the last step; audited', async () => {
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({
      Item: planState({ phase: 'paused', pauseReason: 'evidence', pausedAt: '2026-11-26T01:15:00.000Z' }),
    });
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ promote: true, full: true }), cli, deps)).toBe(EXIT.OK);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':full': true, ':waive': true, ':step': 1 }),
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        kind: 'plan-promote',
        planId: 'plan-1',
        actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice',
      }),
    });
    expect(out()).toContain(
      'end the pause of step 2/4 (blue 75% / green 25%) and skip to the last step (green 100%)',
    );
  });

  it('--promote during the minimum bake says when the bake can end (not before the alarms could fire)', async () => {
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({
      Item: planState({ bakeStartedAt: '2026-11-26T01:19:00.000Z' }),
    });
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ promote: true }), cli, deps)).toBe(EXIT.OK);
    expect(out()).toContain('not before 2026-11-26T01:22:00.000Z (the 3m minimum bake');
  });

  it('--retry starts the aborted plan again from its first step, with its steps, pauses and bake', async () => {
    gatesOpen();
    ddb.on(GetCommand, { Key: PLAN_KEY }).resolves({
      Item: planState({
        status: 'rolled-back',
        phase: 'done',
        pauses: [1],
        bakeSeconds: 600,
        reason: 'cutover',
        cause: 'AlarmFiring: alarm in ALARM: green-5xx',
      }),
    });
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' } as never);
    const { cli, out } = io();
    expect(await runPlanCommand(opts({ retry: true }), cli, deps)).toBe(EXIT.OK);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input.request).toMatchObject({
      steps: [10, 25, 50, 100],
      pauses: [1],
      bakeSeconds: 600,
      reason: 'cutover',
      retryOf: 'plan-1',
    });
    expect(out()).toContain('Retrying plan-1 (rolled-back: AlarmFiring');
  });

  it('--retry refuses a plan that succeeded or still runs', async () => {
    ddb
      .on(GetCommand, { Key: PLAN_KEY })
      .resolves({ Item: planState({ status: 'succeeded', phase: 'done' }) });
    const { cli, err } = io();
    expect(await runPlanCommand(opts({ retry: true }), cli, deps)).toBe(EXIT.FAILED);
    expect(err()).toContain('nothing to retry: the last plan, plan-1, is succeeded');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('--status line of a waiting plan', () => {
  it('says paused and why, or waiting for evidence, with the command that moves it on', async () => {
    const { describePlanWait } = await import('../../cli/shift/plan-wait');
    expect(
      describePlanWait(
        planState({
          phase: 'paused',
          pauseReason: 'evidence',
          pausedAt: '2026-11-26T01:15:00.000Z',
          evidence: 'green served 37 of the 100 requests required',
        }),
      ),
    ).toBe(
      ', PAUSED since 2026-11-26T01:15:00.000Z (not enough evidence: green served 37 of the 100 requests required); go on with --promote [--full], or --abort',
    );
    expect(describePlanWait(planState({ evidence: 'INSUFFICIENT_DATA: green-5xx' }))).toBe(
      ', waiting for evidence (INSUFFICIENT_DATA: green-5xx)',
    );
    expect(describePlanWait(planState())).toBe('');
    expect(describePlanWait(planState({ status: 'succeeded', phase: 'paused' }))).toBe('');
  });
});
