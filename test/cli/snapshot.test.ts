import {
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { CliIo } from '../../cli/io';
import { main } from '../../cli/main';
import { createSnapshotCommand, formatElapsed, type SnapshotCommandDeps } from '../../cli/commands/snapshot';
import { dbSnapshot, fakeClock, ours } from '../lambda/snapshots/fixtures';

const rdsMock = mockClient(RDSClient);
const ssmMock = mockClient(SSMClient);
const regions: string[] = [];

function deps(): SnapshotCommandDeps {
  return {
    rds: (region) => {
      regions.push(region);
      return new RDSClient({ region });
    },
    ssm: (region) => new SSMClient({ region }),
    clock: fakeClock(Date.parse('2026-11-26T01:30:00Z')),
    pollIntervalMs: 30_000,
  };
}

function fakeIo(opts: { isTTY?: boolean; answer?: string } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: opts.isTTY ?? false,
    prompt: async () => opts.answer ?? '',
    env: {},
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

const run = (argv: string[], io: CliIo) => createSnapshotCommand(deps).run(argv, io);
const ID = 'pipeline-guardrails-prod-pre-shift-20261126t013000z';

beforeEach(() => {
  rdsMock.reset();
  ssmMock.reset();
  regions.length = 0;
});

describe('npm run snapshot: arguments', () => {
  it.each([
    [[], /--env is required/],
    [['--env', 'qa'], /--env: got "qa", expected one of dev, staging, prod/],
    [['--env', 'prod', '--reason', 'scheduled'], /--reason: got "scheduled", expected manual or pre-shift/],
    [['--env', 'prod', '--timeout', 'soon'], /--timeout: got "soon", expected a duration/],
    [['--env', 'prod', '--timeout', '0s'], /--timeout: got "0s", expected a duration from 1m to 1d/],
    [
      ['--env', 'prod', '--timeout', '45'],
      /--timeout: got "45", expected a duration with its unit: 45s, 45m or 45h/,
    ],
    [['--env', 'prod', '--timeout', '2d'], /--timeout: got "2d", expected a duration from 1m to 1d/],
    [
      ['--env', 'prod', '--timeout', '-5m'],
      /--timeout: got "-5m", expected a duration from 1m to 1d \(not negative\)/,
    ],
    [['--env', 'prod', '--dry-run'], /--dry-run only goes with --prune/],
    [['--env', 'prod', '--yes'], /--yes only goes with --prune/],
    [['--env', 'prod', '--prune', '--reason', 'manual'], /--reason only goes with taking a snapshot/],
    [['--env', 'prod', '--prune', '--dry-run', '--yes'], /--yes makes no sense with --dry-run/],
    [['--env', 'prod', '--no-wait', '--timeout', '5m'], /contradict/],
    [['--env', 'prod', '--bogus'], /Unknown option '--bogus'/],
  ])('%j exits 2 with the usage and makes no AWS call', async (argv, message) => {
    const io = fakeIo();
    expect(await main(['snapshot', ...argv], io.io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toMatch(/Usage: npm run snapshot/);
    expect(rdsMock.calls()).toHaveLength(0);
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('formats elapsed time for the progress line', () => {
    expect(formatElapsed(9_000)).toBe('9s');
    expect(formatElapsed(130_000)).toBe('2m10s');
    expect(formatElapsed(3_900_000)).toBe('1h05m');
  });
});

describe('npm run snapshot: taking one', () => {
  it('snapshots the prod instance in its region, shows progress, prints the identifier on stdout', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    rdsMock
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: ID })
      .resolvesOnce({
        DBSnapshots: [{ ...dbSnapshot(ID, undefined, { status: 'creating' }), PercentProgress: 40 }],
      })
      .resolves({ DBSnapshots: [dbSnapshot(ID, '2026-11-26T01:30:00Z')] });
    const io = fakeIo();

    expect(await run(['--env', 'prod', '--reason', 'pre-shift'], io.io)).toBe(0);

    expect(io.out()).toBe(`${ID}\n`);
    expect(io.err()).toMatch(/snapshot of nba-analytics-prod \(prod, us-east-1\), reason pre-shift/);
    expect(io.err()).toMatch(/^\s+0s {2}creating 40%$/m);
    expect(io.err()).toMatch(/^\s+30s {2}available$/m);
    expect(io.err()).toMatch(/available after 30s/);
    expect(regions).toEqual(['us-east-1']);
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'nba-analytics-prod',
      Tags: expect.arrayContaining([{ Key: 'reason', Value: 'pre-shift' }]),
    });
  });

  it('prints a line when the status changes or a minute passed, and rewrites one line on a terminal', async () => {
    const creating = {
      DBSnapshots: [{ ...dbSnapshot(ID, undefined, { status: 'creating' }), PercentProgress: 40 }],
    };
    const arrange = () => {
      rdsMock.reset();
      rdsMock.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
      rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
      rdsMock
        .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: ID })
        .resolvesOnce(creating)
        .resolvesOnce(creating)
        .resolvesOnce(creating)
        .resolvesOnce(creating)
        .resolves({ DBSnapshots: [dbSnapshot(ID, '2026-11-26T01:30:00Z')] });
    };
    arrange();
    const log = fakeIo();
    expect(await run(['--env', 'prod', '--reason', 'pre-shift'], log.io)).toBe(0);
    expect(log.err().match(/^\s+\S+\s+(creating|available).*$/gm)).toEqual([
      '       0s  creating 40%',
      '    1m00s  creating 40%',
      '    2m00s  available',
    ]);

    arrange();
    const tty = fakeIo({ isTTY: true });
    expect(await run(['--env', 'prod', '--reason', 'pre-shift'], tty.io)).toBe(0);
    expect(tty.err()).toContain('\r    1m30s  creating 40%\r    2m00s  available   \n');
    expect(tty.out()).toBe(`${ID}\n`);
  });

  it('reads a created database identifier from the deployment parameters', async () => {
    ssmMock.on(GetParametersByPathCommand).resolves({
      Parameters: [
        {
          Name: '/pipeline-guardrails/dev/database/instance-identifier',
          Value: 'pipeline-guardrails-dev-db',
        },
      ],
    });
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    const io = fakeIo();
    expect(await run(['--env', 'dev', '--no-wait'], io.io)).toBe(0);
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'pipeline-guardrails-dev-db',
      DBSnapshotIdentifier: 'pipeline-guardrails-dev-manual-20261126t013000z',
    });
    expect(io.err()).toMatch(/started \(creating\); not waiting/);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 1);
  });

  it('exits 1 naming the snapshot when it is still creating at the timeout', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    rdsMock
      .on(DescribeDBSnapshotsCommand, {
        DBSnapshotIdentifier: 'pipeline-guardrails-prod-manual-20261126t013000z',
      })
      .resolves({ DBSnapshots: [dbSnapshot('x', undefined, { status: 'creating' })] });
    const io = fakeIo();
    expect(await run(['--env', 'prod', '--timeout', '2m'], io.io)).toBe(1);
    expect(io.err()).toMatch(
      /error: snapshot pipeline-guardrails-prod-manual-20261126t013000z still creating after 120s/,
    );
    expect(io.out()).toBe('');
  });

  it('exits 1 at the quota, saying what to prune, without creating anything', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: Array.from({ length: 100 }, (_, i) =>
        ours(`n${i}`, new Date(Date.UTC(2026, 0, 1 + i)).toISOString()),
      ),
    });
    const io = fakeIo();
    expect(await run(['--env', 'prod'], io.io)).toBe(1);
    expect(io.err()).toMatch(
      /has 100 of 100 manual DB snapshots[\s\S]*--prune --dry-run[\s\S]*oldest first: pipeline-guardrails-prod-scheduled-n0,/,
    );
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
  });

  it('exits 1 when the snapshot fails', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
    rdsMock
      .on(DescribeDBSnapshotsCommand, {
        DBSnapshotIdentifier: 'pipeline-guardrails-prod-manual-20261126t013000z',
      })
      .resolves({ DBSnapshots: [dbSnapshot('x', undefined, { status: 'failed' })] });
    const io = fakeIo();
    expect(await run(['--env', 'prod'], io.io)).toBe(1);
    expect(io.err()).toMatch(/failed \(failed\)/);
  });
});

describe('npm run snapshot: --prune', () => {
  beforeEach(() => {
    // Both regions answer the same listing; the copy region's copies share the names.
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ...Array.from({ length: 10 }, (_, i) =>
          ours(`d${i}`, new Date(Date.UTC(2026, 10, 25 - i, 6)).toISOString()),
        ),
        dbSnapshot('nba-before-upgrade', '2025-01-01T00:00:00Z'),
      ],
    });
    rdsMock.on(DeleteDBSnapshotCommand).resolves({});
  });

  it('--dry-run lists what it keeps and what it would delete with the rule, in both regions, deleting nothing', async () => {
    const io = fakeIo();
    expect(await run(['--env', 'prod', '--prune', '--dry-run'], io.io)).toBe(0);
    expect(rdsMock).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    expect(regions).toEqual(['us-east-1', 'us-west-2']);
    expect(io.out()).toMatch(
      /us-east-1 \(source\): 11 manual snapshots, 10 of them pipeline-guardrails prod, quota 100/,
    );
    expect(io.out()).toMatch(/us-west-2 \(copy\)/);
    expect(io.out()).toMatch(
      /keep\s+pipeline-guardrails-prod-scheduled-d0\s+available\s+2026-11-25 06:00\s+daily, weekly, monthly, newest, minimum/,
    );
    // Daily 7 keeps 11-19..11-25, weekly keeps 11-22 (week 47): 11-16..11-18 go.
    expect(io.out()).toMatch(
      /would delete\s+pipeline-guardrails-prod-scheduled-d9\s+available\s+2026-11-16 06:00\s+expired: created/,
    );
    expect(io.out()).toMatch(/1 other manual snapshot\(s\) in us-east-1 are not this tool's: never touched/);
    expect(io.out()).toMatch(/dry run: \d+ snapshot\(s\) would be deleted; nothing was changed/);
  });

  it('refuses to delete without a terminal unless --yes, then deletes with --yes', async () => {
    const refused = fakeIo();
    expect(await run(['--env', 'prod', '--prune'], refused.io)).toBe(2);
    expect(refused.err()).toMatch(/pass --yes/);
    expect(rdsMock).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);

    const io = fakeIo();
    expect(await run(['--env', 'prod', '--prune', '--yes'], io.io)).toBe(0);
    expect(rdsMock).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'pipeline-guardrails-prod-scheduled-d9',
    });
    expect(rdsMock).not.toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: 'nba-before-upgrade',
    });
    expect(io.out()).toMatch(/deleted pipeline-guardrails-prod-scheduled-d9 \(us-east-1\): expired/);
  });

  it('asks on a terminal and deletes nothing unless confirmed', async () => {
    const io = fakeIo({ isTTY: true, answer: 'no' });
    expect(await run(['--env', 'prod', '--prune'], io.io)).toBe(1);
    expect(io.err()).toMatch(/not confirmed; nothing was deleted/);
    expect(rdsMock).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });
});

describe('snapshot without AWS credentials', () => {
  it('exits 1 with the one message and hint of every command, no stack trace', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const io = fakeIo();
    expect(await run(['--env', 'prod'], io.io)).toBe(1);
    expect(io.err()).toMatch(
      /^error: no AWS credentials found \(Could not load credentials from any providers\)$/m,
    );
    expect(io.err()).toMatch(/^hint: sign in for the prod account: aws sso login/m);
    expect(io.err()).not.toMatch(/^\s+at /m);
  });
});
