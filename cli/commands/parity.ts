import { ConfigError, loadConfig } from '../../lib/config';
import { exitCodeOf, formatParity, pairPasses, type PairOutcome } from '../../lambda/parity/report';
import { runParity } from '../../lambda/parity/run';
import { pairSpec, type ParitySpec, type RelationRef } from '../../lambda/parity/spec';
import {
  formatExitCodes,
  parseCliArgs,
  parseDuration,
  UsageError,
  type CliCommand,
  type CliIo,
  type ExitCodeDoc,
} from '../io';
import { connectionFromArgs } from './check';

/** Exit codes of `parity` (the README's table is checked against this list). */
export const PARITY_EXIT_CODES: readonly ExitCodeDoc[] = [
  [0, 'identical (or within maxDifferences)'],
  [1, 'different: more differences than maxDifferences'],
  [
    2,
    'could not compare (missing table or column, no such key, permission, timeout), bad arguments, or no config',
  ],
];

const USAGE = `Usage:
  npm run parity -- --env <dev|staging|prod> [--pair NAME ...] [options]
  npm run parity -- --database-url URL --blue SCHEMA.TABLE --green SCHEMA.TABLE --key COL[,COL] [options]

Compares blue's output with green's, row by row, in one read-only snapshot: the environment's configured
pairs (lib/config/environments/<env>.ts, section "parity"), or any two tables or views of one database.
Values compare by value (0.5 = 0.500, int = bigint, timestamptz in UTC); see README "Output parity".

Options:
  --env NAME               environment whose parity pairs to run
  --pair NAME              only this pair (repeatable; with --env)
  --database-url URL       postgres://USER[:PASSWORD]@HOST[:PORT][/DB][?sslmode=verify-full|require|disable&sslrootcert=FILE]
                           (default: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT)
  --blue REL, --green REL  ad hoc: the two relations, schema.table (public when no schema); quote names
                           that are not lower case: '"Sales"."Q1 totals"'
  --key COLS               ad hoc: key columns, comma-separated (a business key; unique in the data)
  --exclude COLS           ad hoc: columns not compared, comma-separated
  --window COL:HOURS       ad hoc: only rows whose COL is in the last HOURS hours
  --tolerance COL=N        ad hoc: |blue - green| <= N counts as equal for numeric COL (repeatable)
  --max-differences N      ad hoc: differences allowed before exit 1 (default 0: a 100% match)
  --algorithm NAME         bucket (default) or bisect (single integer key)
  --connections 1|2        2 (default) reads both sides at once in one exported snapshot
  --statement-timeout DUR  per-statement limit, e.g. 90s or 5m (default: the pair's, or 5m)
  --json                   print the result as JSON (status, counts, duplicateKeys, samples)
  -h, --help               this text

Progress goes to stderr.

Exit codes:
${formatExitCodes(PARITY_EXIT_CODES)}
Examples:
  npm run parity -- --env prod --pair box-score-players --database-url "postgres://guardrails_checks@HOST/nba?sslmode=verify-full&sslrootcert=global-bundle.pem"
  npm run parity -- --database-url postgres://postgres@127.0.0.1:55442/nba_s1?sslmode=disable --blue public.games --green unified.games --key game_id --exclude created_at,updated_at --json`;

const AD_HOC_FLAGS = ['blue', 'green', 'key', 'exclude', 'window', 'tolerance', 'max-differences'] as const;

/**
 * Splits a list of SQL identifiers separated by `sep`: bare names are folded to lower case (as PostgreSQL
 * does), double-quoted ones are taken literally with "" for a quote. Each name is checked (not empty, no
 * NUL, at most 63 bytes); quoting for SQL happens later, always.
 */
export function parseIdentifiers(text: string, sep: '.' | ',', flag: string): string[] {
  const out: string[] = [];
  let i = 0;
  const bad = (why: string) => new UsageError(`${flag}: got ${JSON.stringify(text)}: ${why}`);
  while (i <= text.length) {
    let name = '';
    while (text[i] === ' ') i++;
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw bad('an unterminated quoted name');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            name += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += text[i++];
      }
      while (text[i] === ' ') i++;
    } else {
      while (i < text.length && text[i] !== sep) name += text[i++];
      name = name.trim();
      if (name.includes('"')) throw bad('a quote inside an unquoted name');
      name = name.toLowerCase();
    }
    if (name.length === 0) throw bad('an empty name');
    if (name.includes('\u0000')) throw bad('a NUL character');
    if (Buffer.byteLength(name) > 63) throw bad(`${JSON.stringify(name)} is longer than 63 bytes`);
    out.push(name);
    if (i >= text.length) break;
    if (text[i] !== sep) throw bad(`expected "${sep}" after ${JSON.stringify(name)}`);
    i++;
  }
  return out;
}

export function parseRelation(text: string, flag: string): RelationRef {
  const parts = parseIdentifiers(text, '.', flag);
  if (parts.length === 1) return { schemaName: 'public', table: parts[0]! };
  if (parts.length === 2) return { schemaName: parts[0]!, table: parts[1]! };
  throw new UsageError(`${flag}: got ${JSON.stringify(text)}, expected SCHEMA.TABLE`);
}

function parseWindow(text: string): { column: string; hours: number } {
  const at = text.lastIndexOf(':');
  const hours = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isInteger(hours) || hours < 1 || hours > 720) {
    throw new UsageError(
      `--window: got ${JSON.stringify(text)}, expected COLUMN:HOURS with HOURS from 1 to 720`,
    );
  }
  const [column] = parseIdentifiers(text.slice(0, at), ',', '--window');
  return { column: column!, hours };
}

function parseTolerance(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) {
    const at = t.lastIndexOf('=');
    const n = Number(t.slice(at + 1));
    if (at <= 0 || t.slice(at + 1).trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new UsageError(`--tolerance: got ${JSON.stringify(t)}, expected COLUMN=NUMBER with NUMBER >= 0`);
    }
    const [column] = parseIdentifiers(t.slice(0, at), ',', '--tolerance');
    out[column!] = n;
  }
  return out;
}

function nonNegativeInt(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag}: got ${JSON.stringify(text)}, expected an integer >= 0`);
  }
  return n;
}

interface Job {
  readonly name: string;
  readonly spec: ParitySpec;
  readonly maxDifferences: number;
  readonly statementTimeoutMs: number;
}

const command: CliCommand = {
  name: 'parity',
  summary: 'compare blue and green outputs row by row (config pairs or two tables); --json',
  usage: USAGE,
  exitCodes: PARITY_EXIT_CODES,
  exitCodeFor: () => 2,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCliArgs(argv, {
      env: { type: 'string' },
      pair: { type: 'string', multiple: true },
      'database-url': { type: 'string' },
      blue: { type: 'string' },
      green: { type: 'string' },
      key: { type: 'string' },
      exclude: { type: 'string' },
      window: { type: 'string' },
      tolerance: { type: 'string', multiple: true },
      'max-differences': { type: 'string' },
      algorithm: { type: 'string' },
      connections: { type: 'string' },
      'statement-timeout': { type: 'string' },
      json: { type: 'boolean' },
    });
    const adHoc = AD_HOC_FLAGS.filter((f) => values[f] !== undefined);
    const algorithm = values.algorithm;
    if (algorithm !== undefined && algorithm !== 'bucket' && algorithm !== 'bisect') {
      throw new UsageError(`--algorithm: got ${JSON.stringify(algorithm)}, expected bucket or bisect`);
    }
    const connections = values.connections ?? '2';
    if (connections !== '1' && connections !== '2') {
      throw new UsageError(`--connections: got ${JSON.stringify(connections)}, expected 1 or 2`);
    }
    const timeoutOverride = values['statement-timeout']
      ? parseDuration(values['statement-timeout'], '--statement-timeout')
      : undefined;

    let jobs: Job[];
    let databaseDefault = 'postgres';
    let envName: string | undefined;
    if (values.env !== undefined) {
      if (adHoc.length > 0) {
        throw new UsageError(
          `--env runs the configured pairs: drop --${adHoc.join(', --')} (or drop --env for an ad-hoc compare)`,
        );
      }
      let config;
      try {
        config = loadConfig(values.env);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
      envName = config.envName;
      databaseDefault = config.database.databaseName;
      const wanted = values.pair ?? [];
      const known = config.parity.map((p) => p.name);
      for (const w of wanted) {
        if (!known.includes(w)) {
          throw new UsageError(
            `--pair: got ${JSON.stringify(w)}, expected one of ${known.length > 0 ? known.join(', ') : `(none: ${config.envName} configures no parity pair)`}`,
          );
        }
      }
      const pairs = config.parity.filter((p) => wanted.length === 0 || wanted.includes(p.name));
      if (pairs.length === 0)
        throw new UsageError(`${config.envName} configures no parity pair (section "parity")`);
      jobs = pairs.map((p) => ({
        name: p.name,
        spec: { ...pairSpec(p), ...(algorithm ? { algorithm } : {}) },
        maxDifferences: p.maxDifferences,
        statementTimeoutMs: timeoutOverride ?? p.statementTimeoutSeconds * 1000,
      }));
    } else {
      if (values.pair) throw new UsageError('--pair goes with --env');
      const missing = (['blue', 'green', 'key'] as const).filter((f) => values[f] === undefined);
      if (missing.length > 0) {
        throw new UsageError(
          `an ad-hoc compare needs --${missing.join(', --')} (or --env NAME for the configured pairs)`,
        );
      }
      const blue = parseRelation(values.blue!, '--blue');
      const green = parseRelation(values.green!, '--green');
      jobs = [
        {
          name: `${blue.schemaName}.${blue.table}`,
          spec: {
            blue,
            green,
            key: parseIdentifiers(values.key!, ',', '--key'),
            exclude: values.exclude ? parseIdentifiers(values.exclude, ',', '--exclude') : [],
            ...(values.window ? { window: parseWindow(values.window) } : {}),
            tolerance: parseTolerance(values.tolerance ?? []),
            ...(algorithm ? { algorithm } : {}),
          },
          maxDifferences: nonNegativeInt(values['max-differences'], '--max-differences', 0),
          statementTimeoutMs: timeoutOverride ?? 300_000,
        },
      ];
    }
    // Checked before any connection: a bad URL or port is a usage error.
    const base = connectionFromArgs(values['database-url'], io.env, {
      database: databaseDefault,
      statementTimeoutMs: 0,
      lockTimeoutMs: 5000,
    });

    const outcomes: PairOutcome[] = [];
    for (const job of jobs) {
      io.stderr(
        `parity ${job.name}: comparing ${job.spec.blue.schemaName}.${job.spec.blue.table} with ${job.spec.green.schemaName}.${job.spec.green.table}\n`,
      );
      const t0 = Date.now();
      const result = await runParity({ ...base, statementTimeoutMs: job.statementTimeoutMs }, job.spec, {
        connections: connections === '1' ? 1 : 2,
        onProgress: (m) => io.stderr(`  ${((Date.now() - t0) / 1000).toFixed(1)}s ${m}\n`),
      });
      outcomes.push({ name: job.name, maxDifferences: job.maxDifferences, result });
    }
    const code = exitCodeOf(outcomes);
    if (values.json) {
      const status = code === 0 ? 'identical' : code === 1 ? 'different' : 'error';
      const body =
        envName === undefined
          ? {
              ...outcomes[0]!.result,
              maxDifferences: outcomes[0]!.maxDifferences,
              passes: pairPasses(outcomes[0]!),
            }
          : {
              status,
              env: envName,
              pairs: outcomes.map((o) => ({
                name: o.name,
                maxDifferences: o.maxDifferences,
                passes: pairPasses(o),
                ...o.result,
              })),
            };
      io.stdout(`${JSON.stringify(body, null, 2)}\n`);
    } else {
      io.stdout(formatParity(outcomes));
    }
    return code;
  },
};

export default command;
