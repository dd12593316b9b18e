#!/usr/bin/env node
import './node-support';
import * as readline from 'node:readline/promises';
import { COMMANDS } from './commands';
import { describeFailure, formatFailure, type Failure } from './errors';
import { UsageError, type CliCommand, type CliIo } from './io';

function topUsage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    'Usage: pipeline-guardrails <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run a command with --help for its options. Every command takes --debug (a failure prints its stack trace).',
  ].join('\n');
}

/** Exit codes of `pipeline-guardrails` itself, before a command runs. */
export const MAIN_EXIT_CODES = [
  [0, '--help'],
  [2, 'no command, or an unknown one'],
] as const;

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  prompt: async (question) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
  env: process.env,
};

/** The environment named on the command line (`--env prod` or `--env=prod`), for hints. */
function envOf(argv: readonly string[]): string | undefined {
  for (const [i, a] of argv.entries()) {
    if (a === '--env') return argv[i + 1];
    if (a.startsWith('--env=')) return a.slice('--env='.length);
  }
  return undefined;
}

interface FailureOutput {
  readonly io: CliIo;
  readonly command?: CliCommand;
  readonly json: boolean;
  readonly debug: boolean;
  /** False when the command already wrote its stdout (then a second JSON document would break a parser). */
  readonly stdoutFree: boolean;
  readonly envName?: string;
}

/**
 * Every failure of every command ends here: one message (and a hint) on stderr, the command's documented
 * exit code, with --json one JSON object on stdout, and a stack trace only with --debug.
 */
function reportFailure(err: unknown, out: FailureOutput): number {
  const failure: Failure = describeFailure(err, { envName: out.envName });
  const code = failure.kind === 'usage' ? 2 : out.command ? out.command.exitCodeFor(failure.kind) : 2;
  const lines = [formatFailure(failure).trimEnd()];
  if (failure.kind === 'unexpected' && !out.debug) lines.push('(run again with --debug for the stack trace)');
  if (failure.kind === 'usage' && out.command) lines.push('', out.command.usage);
  if (out.debug && err instanceof Error && err.stack) lines.push('', err.stack);
  out.io.stderr(`${lines.join('\n')}\n`);
  if (out.json && out.stdoutFree) {
    out.io.stdout(
      `${JSON.stringify(
        {
          command: out.command?.name ?? null,
          env: out.envName ?? null,
          outcome: 'error',
          error: {
            kind: failure.kind,
            message: failure.message,
            ...(failure.hint ? { hint: failure.hint } : {}),
          },
          exitCode: code,
        },
        null,
        2,
      )}\n`,
    );
  }
  return code;
}

/**
 * Runs `pipeline-guardrails <command> ...argv`; resolves to the exit code and never rejects: whatever a
 * command throws is reported by `reportFailure` with that command's exit code.
 */
export async function main(
  argvWithFlags: string[],
  io: CliIo = processIo,
  commands: typeof COMMANDS = COMMANDS,
): Promise<number> {
  const debug = argvWithFlags.includes('--debug') || io.env.PIPELINE_GUARDRAILS_DEBUG === '1';
  const argv = argvWithFlags.filter((a) => a !== '--debug');
  const [name, ...rest] = argv;
  const json = rest.includes('--json');
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? io.stderr : io.stdout)(`${topUsage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    io.stderr(`${topUsage()}\n\n`);
    return reportFailure(new UnknownCommandError(name), { io, json, debug, stdoutFree: true });
  }
  let stdoutFree = true;
  const messages: string[] = [];
  const tracked: CliIo = {
    ...io,
    stdout: (t) => {
      stdoutFree = false;
      io.stdout(t);
    },
    stderr: (t) => {
      if (json) messages.push(t);
      io.stderr(t);
    },
  };
  const out = { io, json, debug, envName: envOf(rest) };
  let command: CliCommand;
  try {
    command = await entry.load();
  } catch (err) {
    return reportFailure(err, { ...out, stdoutFree });
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    const code = await command.run(rest, tracked);
    // --json always prints JSON: a command that stopped (a refusal, no confirmation) without its document
    // gets one here, with what it said on stderr.
    if (json && stdoutFree) {
      io.stdout(
        `${JSON.stringify(
          {
            command: command.name,
            env: out.envName ?? null,
            outcome: code === 0 ? 'ok' : 'failed',
            messages: messages
              .join('')
              .split('\n')
              .filter((l) => l.trim() !== ''),
            exitCode: code,
          },
          null,
          2,
        )}\n`,
      );
    }
    return code;
  } catch (err) {
    return reportFailure(err, { ...out, command, stdoutFree });
  }
}

class UnknownCommandError extends UsageError {
  constructor(name: string) {
    super(`unknown command ${JSON.stringify(name)}: expected one of ${Object.keys(COMMANDS).join(', ')}`);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
