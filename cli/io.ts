import { parseArgs, type ParseArgsConfig } from 'node:util';

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

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
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
