import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { COMMANDS } from '../../cli/commands';
import { CHECK_EXIT_CODES } from '../../cli/commands/check';
import { PARITY_EXIT_CODES } from '../../cli/commands/parity';
import { createSnapshotCommand, SNAPSHOT_EXIT_CODES } from '../../cli/commands/snapshot';
import { createStatusCommand, STATUS_EXIT_CODES } from '../../cli/commands/status';
import type { ExitCodeDoc } from '../../cli/io';
import { main, MAIN_EXIT_CODES } from '../../cli/main';
import { EXIT, EXIT_CODE_HELP } from '../../cli/shift/exit-codes';
import { runSynth, SYNTH_EXIT_CODES } from '../../scripts/synth';
import { ConfigError } from '../../lib/config';
import { snapshotIdentifier, snapshotTags } from '../../lambda/snapshots/naming';
import { FakeEnvironment, fakeIo, mocks } from './shift-fake-env';
import { statusTranscript } from './status-transcript';

const root = path.join(__dirname, '..', '..');
const README = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function block(marker: string): string {
  const m = new RegExp(`<!-- ${marker} -->\\n([\\s\\S]*?)\\n<!-- /${marker} -->`).exec(README);
  if (!m?.[1]) throw new Error(`README has no ${marker} block`);
  return m[1];
}

const table = (codes: readonly ExitCodeDoc[]) =>
  ['| exit | meaning |', '| --- | --- |', ...codes.map(([c, m]) => `| ${c} | ${m} |`)].join('\n');

const DOCUMENTED: Record<string, readonly ExitCodeDoc[]> = {
  'pipeline-guardrails': MAIN_EXIT_CODES,
  check: CHECK_EXIT_CODES,
  parity: PARITY_EXIT_CODES,
  snapshot: SNAPSHOT_EXIT_CODES,
  shift: EXIT_CODE_HELP,
  status: STATUS_EXIT_CODES,
  synth: SYNTH_EXIT_CODES,
};

describe('README exit codes', () => {
  it('cover every command', () => {
    expect(Object.keys(DOCUMENTED).sort()).toEqual(
      ['pipeline-guardrails', 'synth', ...Object.keys(COMMANDS)].sort(),
    );
  });

  it.each(Object.entries(DOCUMENTED))('%s: the README table is the command’s own', (name, codes) => {
    expect(block(`exit-codes:${name}`)).toBe(table(codes));
  });

  it('the status screen in the README is the command’s real output', async () => {
    expect(block('status-transcript')).toBe(`\`\`\`text\n${await statusTranscript()}\n\`\`\``);
  });
});

// ---- one scenario per documented code (check and shift: their own test files produce each code) ----

let env: FakeEnvironment;
beforeEach(() => {
  env = new FakeEnvironment('prod');
  mocks.sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  const at = new Date(env.now - 3600_000);
  env.snapshots.push({
    DBSnapshotIdentifier: snapshotIdentifier('prod', 'scheduled', at),
    SnapshotType: 'manual',
    Status: 'available',
    SnapshotCreateTime: at,
    TagList: snapshotTags('prod', 'scheduled'),
  });
});

async function run(argv: string[]): Promise<number> {
  const clock = { now: () => env.now, sleep: async (ms: number) => void (env.now += ms) };
  const commands = {
    ...COMMANDS,
    status: { summary: '', load: async () => createStatusCommand(() => env.deps()) },
    snapshot: {
      summary: '',
      load: async () =>
        createSnapshotCommand(() => ({
          rds: (region) => new RDSClient({ region }),
          ssm: (region) => new SSMClient({ region }),
          clock,
          pollIntervalMs: 1000,
        })),
    },
  };
  return main(argv, fakeIo().io, commands);
}

const synth = (argv: string[], fail?: 'config' | 'nag') =>
  runSynth(argv, { stdout: () => undefined, stderr: () => undefined }, '/tmp/unused', (_out, envs = []) => {
    if (fail === 'config') throw new ConfigError(envs[0]!, ['x: got 1, expected 2']);
    return envs.map((e) => ({
      env: e,
      outdir: `/tmp/unused/${e}`,
      seconds: 0,
      messages: fail === 'nag' ? [{ level: 'error' as const, path: '/S', message: 'AwsSolutions-IAM4' }] : [],
    }));
  });

const SCENARIOS: Record<string, Record<number, () => Promise<number> | number>> = {
  'pipeline-guardrails': { 0: () => run(['--help']), 2: () => run(['nope']) },
  status: {
    0: () => run(['status', '--env', 'prod']),
    1: () => {
      env.setAlarm('database-cpu-critical', 'ALARM');
      return run(['status', '--env', 'prod']);
    },
    2: () => {
      mocks.doc.rejects(new Error('DynamoDB is down'));
      return run(['status', '--env', 'prod']);
    },
  },
  snapshot: {
    0: () => run(['snapshot', '--env', 'prod']),
    1: () => {
      mocks.rds.on(CreateDBSnapshotCommand).rejects(
        Object.assign(new Error('snapshot quota exceeded'), {
          name: 'SnapshotQuotaExceeded',
          $fault: 'client',
          $metadata: {},
        }),
      );
      return run(['snapshot', '--env', 'prod']);
    },
    2: () => run(['snapshot', '--env', 'prod', '--timeout', '45']),
  },
  synth: { 0: () => synth(['dev']), 1: () => synth(['prod'], 'nag'), 2: () => synth(['--env', 'prod']) },
};

describe('each documented code is produced', () => {
  const cases = Object.entries(SCENARIOS).flatMap(([name, byCode]) =>
    Object.keys(byCode).map((c) => [name, Number(c)] as const),
  );

  it.each(Object.keys(SCENARIOS))('%s: a scenario for each documented code, and no other', (name) => {
    expect(Object.keys(SCENARIOS[name]!).map(Number)).toEqual(DOCUMENTED[name]!.map(([c]) => c));
  });

  it.each(cases)('%s exits %d', async (name, code) => {
    expect(await SCENARIOS[name]![code]!()).toBe(code);
  });

  it('synth exits 1 on an invalid configuration too', () => {
    expect(synth(['staging'], 'config')).toBe(1);
  });

  // These commands' own test files drive every code (the shift against the fake environment, the check against
  // the harness's PostgreSQL); here: each documented code is asserted there.
  it.each([
    [
      'shift',
      ['shift.test.ts', 'shift-plan.test.ts', 'main.test.ts', '../lambda/rollout/parity-gate-wiring.test.ts'],
      (c: number) => [`toBe(EXIT.${Object.entries(EXIT).find(([, v]) => v === c)![0]})`],
    ],
    [
      'check',
      ['check.test.ts', 'main.test.ts'],
      (c: number) => [`).toBe(\n      ${c},`, `).toBe(${c})`, `code).toBe(${c})`],
    ],
  ] as const)('%s: every documented code is asserted in its tests', (name, files, spellings) => {
    const source = files.map((f) => fs.readFileSync(path.join(__dirname, f), 'utf8')).join('\n');
    const missing = DOCUMENTED[name]!.map(([c]) => c).filter(
      (c) => !spellings(c).some((s) => source.includes(s)),
    );
    expect(missing).toEqual([]);
  });
});
