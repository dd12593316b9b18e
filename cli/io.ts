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

/**
 * node:util parseArgs in strict mode, with its errors turned into UsageErrors. A value that starts with a
 * dash and a digit (`--green -5`) is taken as the option's value, so the option's own check answers it
 * ("expected an integer percentage from 0 to 100") instead of the parser's "ambiguous" message.
 */
export function parseCliArgs<T extends ParseArgsConfig['options']>(argv: string[], options: T) {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name && options?.[name]?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else {
      args.push(a);
    }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/** `5m`, `1h30m`, `90s`: the text the CLI prints for a duration (the inverse of parseDuration). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms / 1000);
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

export interface DurationBounds {
  /** Smallest accepted value in milliseconds. @default 0 */
  readonly minMs?: number;
  /** Largest accepted value in milliseconds. */
  readonly maxMs?: number;
}

/**
 * Parses a duration with units, `90s`, `5m`, `1h30m`, `1d`, into milliseconds, within `bounds`. Every CLI
 * duration takes the same syntax: a unit is required (a bare `45` could be seconds or minutes), except `0`.
 */
export function parseDuration(text: string, flag: string, bounds: DurationBounds = {}): number {
  const trimmed = text.trim();
  const range = () =>
    `from ${formatDurationMs(bounds.minMs ?? 0)}${bounds.maxMs === undefined ? '' : ` to ${formatDurationMs(bounds.maxMs)}`}`;
  if (/^-/.test(trimmed)) {
    throw new UsageError(
      `${flag}: got ${JSON.stringify(text)}, expected a duration ${range()} (not negative)`,
    );
  }
  let total = 0;
  if (trimmed !== '0') {
    if (/^\d+(\.\d+)?$/.test(trimmed)) {
      throw new UsageError(
        `${flag}: got ${JSON.stringify(text)}, expected a duration with its unit: ${trimmed}s, ${trimmed}m or ${trimmed}h (a bare number could be any of them)`,
      );
    }
    let consumed = '';
    for (const m of trimmed.matchAll(/(\d+)(d|h|m|s)/g)) {
      total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
      consumed += m[0];
    }
    if (consumed === '' || consumed !== trimmed) {
      throw new UsageError(
        `${flag}: got ${JSON.stringify(text)}, expected a duration such as 90s, 5m or 1h30m (units d, h, m, s)`,
      );
    }
  }
  if (total < (bounds.minMs ?? 0) || (bounds.maxMs !== undefined && total > bounds.maxMs)) {
    throw new UsageError(`${flag}: got ${JSON.stringify(text)}, expected a duration ${range()}`);
  }
  return total;
}
