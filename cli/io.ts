import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../lib/project';
import type { FailureKind } from './errors';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when a person can answer prompts. */
  readonly isTTY: boolean;
  /** Asks a question on the terminal and returns the answer line. */
  readonly prompt: (question: string) => Promise<string>;
  readonly env: NodeJS.ProcessEnv;
}

/** A bad command line: reported with the usage text, before any AWS or database call. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An exit code and what it means, as the usage text and the README's table print it. */
export type ExitCodeDoc = readonly [code: number, meaning: string];

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Every exit code the command returns, with its meaning (the README's table is checked against it). */
  readonly exitCodes: readonly ExitCodeDoc[];
  /**
   * The exit code of a failure the command did not turn into an exit code itself (cli/main.ts formats the
   * message): no credentials, an AWS error, a missing deployment, ... A bad command line is 2 everywhere.
   */
  exitCodeFor(kind: Exclude<FailureKind, 'usage'>): number;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** The "Exit codes:" block of a usage text. */
export function formatExitCodes(codes: readonly ExitCodeDoc[]): string {
  return codes.map(([c, t]) => `  ${String(c).padStart(3)}  ${t}`).join('\n');
}

/** `--env NAME`: one of the environments, or a UsageError in the syntax of the CLI (not `-c env=`). */
export function parseEnvName(value: string | undefined): EnvironmentName {
  if (value === undefined) throw new UsageError(`--env is required: one of ${ENVIRONMENT_NAMES.join(', ')}`);
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(
      `--env: got ${JSON.stringify(value)}, expected one of ${ENVIRONMENT_NAMES.join(', ')}`,
    );
  }
  return value as EnvironmentName;
}

/** node:util parseArgs in strict mode, with its errors turned into UsageErrors. */
export function parseCliArgs<T extends ParseArgsConfig['options']>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Parses `90s`, `5m`, `1h`, `1h30m` or a number of seconds into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+)(h|m|s)/g;
  let total = 0;
  let consumed = '';
  for (const m of trimmed.matchAll(re)) {
    total += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'h' | 'm' | 's'];
    consumed += m[0];
  }
  if (consumed === '' || consumed !== trimmed) {
    throw new UsageError(
      `${flag}: got ${JSON.stringify(text)}, expected a duration such as 90s, 5m or 1h30m`,
    );
  }
  return total;
}
