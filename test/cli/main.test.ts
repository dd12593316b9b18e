import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describeFailure } from '../../cli/errors';
import { main } from '../../cli/main';
import { fakeIo } from './shift-fake-env';

/** An error as the SDK's credential chain throws it when nothing provides credentials. */
function noCredentials(): Error {
  const err = new Error('Could not load credentials from any providers');
  err.name = 'CredentialsProviderError';
  return err;
}

/** An AWS API error as the SDK builds it: name = the error code, plus $fault and $metadata. */
function serviceError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

const ssm = mockClient(SSMClient);
beforeEach(() => ssm.reset());

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

describe('one error path: a clear message, the documented exit code, no stack trace', () => {
  it.each([
    ['shift --plan', ['shift', '--env', 'dev', '--plan', '10,25,50,100'], 1],
    ['shift --follow', ['shift', '--env', 'dev', '--follow'], 1],
    ['shift --abort', ['shift', '--env', 'dev', '--abort', '--yes'], 1],
    ['check --deployed --accept', ['check', '--env', 'dev', '--deployed', '--accept', 'public.games'], 2],
  ])('%s without credentials', async (_what, argv, code) => {
    ssm.on(GetParametersByPathCommand).rejects(noCredentials());
    const io = fakeIo();
    expect(await main(argv, io.io)).toBe(code);
    expect(io.err()).toMatch(/^error: no AWS credentials found/m);
    expect(io.err()).toMatch(/^hint: sign in for the dev account: aws sso login/m);
    expect(io.err()).not.toMatch(STACK_LINE);
    expect(io.out()).toBe('');
  });

  it('--json prints one JSON object on stdout for a failure too', async () => {
    ssm.on(GetParametersByPathCommand).rejects(noCredentials());
    const io = fakeIo();
    expect(await main(['shift', '--env', 'prod', '--plan', '10,100', '--json', '--yes'], io.io)).toBe(1);
    expect(JSON.parse(io.out())).toEqual({
      command: 'shift',
      env: 'prod',
      outcome: 'error',
      error: expect.objectContaining({ kind: 'credentials', hint: expect.stringMatching(/prod account/) }),
      exitCode: 1,
    });
  });

  it('--json prints JSON for a bad command line (exit 2), the usage going to stderr', async () => {
    const io = fakeIo();
    expect(await main(['shift', '--env', 'prod', '--green', '-5', '--json'], io.io)).toBe(2);
    expect(JSON.parse(io.out())).toMatchObject({ outcome: 'error', error: { kind: 'usage' }, exitCode: 2 });
    expect(io.err()).toContain('Usage: pipeline-guardrails shift');
  });

  it('an unforeseen error says so, without a stack trace, and points at --debug', async () => {
    ssm
      .on(GetParametersByPathCommand)
      .rejects(new TypeError("Cannot read properties of undefined (reading 'x')"));
    const io = fakeIo();
    expect(await main(['shift', '--env', 'dev', '--follow'], io.io)).toBe(1);
    expect(io.err()).toMatch(/^error: TypeError: Cannot read properties/m);
    expect(io.err()).toContain('run again with --debug');
    expect(io.err()).not.toMatch(STACK_LINE);
  });

  it('--debug (anywhere on the line) adds the stack trace', async () => {
    ssm.on(GetParametersByPathCommand).rejects(noCredentials());
    const io = fakeIo();
    expect(await main(['--debug', 'shift', '--env', 'dev', '--follow'], io.io)).toBe(1);
    expect(io.err()).toMatch(STACK_LINE);
    const io2 = fakeIo();
    expect(await main(['shift', '--env', 'dev', '--follow', '--debug'], io2.io)).toBe(1);
    expect(io2.err()).toMatch(STACK_LINE);
  });

  it('a missing deployment parameter is shift exit 5, naming the parameter', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    const io = fakeIo();
    expect(await main(['shift', '--env', 'staging', '--follow'], io.io)).toBe(5);
    expect(io.err()).toMatch(/parameter \/pipeline-guardrails\/staging\/.+ not found/);
  });

  it('an unknown command exits 2 with the list of commands', async () => {
    const io = fakeIo();
    expect(await main(['nope'], io.io)).toBe(2);
    expect(io.err()).toMatch(
      /unknown command "nope": expected one of check, parity, shift, status, snapshot/,
    );
  });

  it('check --env qa answers in the syntax of the check command (not -c env=)', async () => {
    const io = fakeIo();
    expect(await main(['check', '--env', 'qa'], io.io)).toBe(2);
    expect(io.err()).toMatch(/^error: --env: got "qa", expected one of dev, staging, prod$/m);
    expect(io.err()).not.toContain('-c env');
  });
});

describe('describeFailure', () => {
  const cases: [string, unknown, string, unknown][] = [
    [
      'expired token',
      serviceError('ExpiredTokenException', 'The token is expired'),
      'credentials',
      expect.stringMatching(/sign in again/),
    ],
    [
      'unknown key',
      serviceError('InvalidClientTokenId', 'The security token is invalid'),
      'credentials',
      expect.stringMatching(/sign in again/),
    ],
    [
      'IAM denial',
      serviceError('AccessDeniedException', 'not authorized'),
      'access-denied',
      expect.stringMatching(/allowed/),
    ],
    [
      'no network',
      Object.assign(new Error('getaddrinfo ENOTFOUND ssm'), { code: 'ENOTFOUND' }),
      'network',
      expect.stringMatching(/network/),
    ],
    ['another AWS error', serviceError('ThrottlingException', 'Rate exceeded'), 'aws', undefined],
    ['a thrown string', 'a string', 'unexpected', undefined],
  ];
  it.each(cases)('%s', (_what, err, kind, hint) => {
    const f = describeFailure(err, { envName: 'prod' });
    expect({ kind: f.kind, hint: f.hint }).toEqual({ kind, hint });
  });
});

describe('a fresh clone, offline, without credentials (a real process, the real SDK)', () => {
  it('shift --plan --json: JSON on stdout, one message on stderr, no stack trace, no SDK Node warning', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-home-'));
    try {
      const root = path.join(__dirname, '..', '..');
      const r = spawnSync(
        process.execPath,
        [
          require.resolve('tsx/cli'),
          path.join(root, 'cli', 'main.ts'),
          'shift',
          '--env',
          'dev',
          '--plan',
          '10,100',
          '--json',
        ],
        {
          cwd: root,
          encoding: 'utf8',
          timeout: 60_000,
          // Nothing that could provide credentials: no profile files, no instance metadata, no container role.
          env: {
            PATH: process.env.PATH,
            HOME: home,
            AWS_CONFIG_FILE: path.join(home, 'config'),
            AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
            AWS_EC2_METADATA_DISABLED: 'true',
          },
        },
      );
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'error', error: { kind: 'credentials' } });
      expect(r.stderr).toMatch(/^error: no AWS credentials found/m);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stderr).not.toContain('NodeVersionSupportWarning');
      expect(r.stderr).not.toMatch(/Warning/);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('--json when a command stops without its JSON document', () => {
  it('prints one with the exit code and what the command said on stderr', async () => {
    const commands = {
      refuse: {
        summary: 'refuses',
        load: async () => ({
          name: 'refuse',
          summary: 'refuses',
          usage: 'Usage: refuse',
          exitCodes: [[3, 'refused'] as const],
          exitCodeFor: () => 1,
          run: async (_argv: string[], io: { stderr: (t: string) => void }) => {
            io.stderr('refusing: prod needs confirmation; pass --yes\n');
            return 3;
          },
        }),
      },
    };
    const io = fakeIo();
    expect(await main(['refuse', '--env', 'prod', '--json'], io.io, commands)).toBe(3);
    expect(JSON.parse(io.out())).toEqual({
      command: 'refuse',
      env: 'prod',
      outcome: 'failed',
      messages: ['refusing: prod needs confirmation; pass --yes'],
      exitCode: 3,
    });
    expect(io.err()).toContain('refusing: prod needs confirmation');
  });
});

describe('npx pipeline-guardrails (bin/pipeline-guardrails.cjs)', () => {
  it('runs the CLI and passes its exit code on', () => {
    const bin = path.join(__dirname, '..', '..', 'bin', 'pipeline-guardrails.cjs');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^ {2}status +Every guardrail of an environment on one screen/m);
    const unknown = spawnSync(process.execPath, [bin, 'nope'], { encoding: 'utf8', timeout: 60_000 });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "nope"/);
  });
});
