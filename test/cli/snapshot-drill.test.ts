import { RDSClient } from '@aws-sdk/client-rds';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createSnapshotCommand, type SnapshotCommandDeps } from '../../cli/commands/snapshot';
import { UsageError, type CliIo } from '../../cli/io';
import { fakeClock } from '../lambda/snapshots/fixtures';

const ssmMock = mockClient(SSMClient);
const sfnMock = mockClient(SFNClient);
const rdsMock = mockClient(RDSClient);
const ARN = 'arn:aws:states:us-east-1:333333333333:stateMachine:pipeline-guardrails-prod-restore-drill';
const EXEC = 'arn:aws:states:us-east-1:333333333333:execution:pipeline-guardrails-prod-restore-drill:cli-1';

function deps(): SnapshotCommandDeps {
  return {
    rds: (region) => new RDSClient({ region }),
    ssm: (region) => new SSMClient({ region }),
    sfn: (region) => new SFNClient({ region }),
    clock: fakeClock(Date.parse('2026-12-01T09:00:00Z')),
    pollIntervalMs: 60_000,
  };
}

function fakeIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
    prompt: async () => '',
    env: {},
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}
const run = (argv: string[], io: CliIo) => createSnapshotCommand(deps).run(argv, io);

beforeEach(() => {
  for (const m of [ssmMock, sfnMock, rdsMock]) m.reset();
  ssmMock.on(GetParametersByPathCommand).resolves({
    Parameters: [{ Name: '/pipeline-guardrails/prod/snapshots/drill-state-machine-arn', Value: ARN }],
  });
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXEC });
});

describe('npm run snapshot -- --drill: arguments (refused before any AWS call)', () => {
  it.each([
    [['--env', 'prod', '--drill', '--prune'], /--prune does not go with --drill/],
    [['--env', 'prod', '--drill', '--reason', 'manual'], /--reason does not go with --drill/],
    [['--env', 'prod', '--drill', '--timeout', '5m'], /--timeout does not go with --drill/],
    [['--env', 'prod', '--snapshot', 'x'], /--snapshot only goes with --drill/],
    [['--env', 'prod', '--follow'], /--follow only goes with --drill/],
    [
      ['--env', 'prod', '--drill', '--snapshot', 'a--b'],
      /--snapshot: got "a--b", expected an RDS snapshot identifier/,
    ],
    [
      ['--env', 'prod', '--drill', '--snapshot', 'pipeline-guardrails-staging-manual-20261126t013000z'],
      /expected a pipeline-guardrails snapshot of prod \(pipeline-guardrails-prod-\.\.\.\)/,
    ],
  ])('%j', async (argv, message) => {
    const { io } = fakeIo();
    await expect(run(argv, io)).rejects.toThrow(UsageError);
    await expect(run(argv, io)).rejects.toThrow(message);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('refuses an environment without a drill (dev), exit 2, no AWS call', async () => {
    const { io, err } = fakeIo();
    expect(await run(['--env', 'dev', '--drill'], io)).toBe(2);
    expect(err()).toMatch(/dev has no restore drill \(snapshots\.drill is not configured/);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('npm run snapshot -- --drill', () => {
  it('starts the deployed drill state machine for a named snapshot and prints the execution ARN', async () => {
    const { io, out } = fakeIo();
    const id = 'pipeline-guardrails-prod-manual-20261126t013000z';
    expect(await run(['--env', 'prod', '--drill', '--snapshot', id], io)).toBe(0);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: ARN,
      name: 'cli-20261201t090000z',
      input: JSON.stringify({ trigger: 'cli', snapshotId: id }),
    });
    expect(out()).toBe(`${EXEC}\n`);
  });

  it('--follow reports the phases and exits 0 when the drill succeeded', async () => {
    const states = ['Start', 'WaitForRestore', 'RestoreStatus', 'Verify', 'Cleanup'];
    let polls = 0;
    sfnMock.on(DescribeExecutionCommand).callsFake(() =>
      polls >= states.length
        ? {
            status: 'SUCCEEDED',
            output: JSON.stringify({
              drill: { snapshotId: 'pipeline-guardrails-prod-scheduled-20261130t050000z' },
              restore: { available: true, elapsedSeconds: 1710 },
              verification: { durationMs: 42_000, findings: [{}, {}, {}] },
            }),
          }
        : { status: 'RUNNING' },
    );
    sfnMock.on(GetExecutionHistoryCommand).callsFake(() => ({
      events: [{ stateEnteredEventDetails: { name: states[polls++] } }],
    }));
    const { io, err } = fakeIo();
    expect(await run(['--env', 'prod', '--drill', '--follow'], io)).toBe(0);
    expect(err()).toContain('picking the snapshot');
    expect(err()).toContain('restoring');
    expect(err()).toContain('verifying the copy');
    expect(err()).toContain('deleting the drill instance');
    expect(err()).toMatch(
      /drill succeeded: pipeline-guardrails-prod-scheduled-20261130t050000z restored in 28\.5 min, verified in 42 s/,
    );
  });

  it('--follow exits 1 with the failed rule when the drill failed', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      error: 'DrillChecksFailed',
      cause: '1 check(s) failed: rows-present public.games: 3 row(s) missing',
    });
    const { io, err } = fakeIo();
    expect(await run(['--env', 'prod', '--drill', '--follow'], io)).toBe(1);
    expect(err()).toMatch(/drill failed: DrillChecksFailed: 1 check\(s\) failed: rows-present public\.games/);
  });

  it('says what to do when the environment is not deployed (exit 2)', async () => {
    ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    const { io, err } = fakeIo();
    expect(await run(['--env', 'prod', '--drill'], io)).toBe(2);
    expect(err()).toMatch(
      /parameter \/pipeline-guardrails\/prod\/snapshots\/drill-state-machine-arn not found/,
    );
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
