import * as fs from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config';
import { isSslMode, type ConnectionSettings } from '../../lambda/data-checks/connection';
import { exitCodeOf, formatReport, verdictOf } from '../../lambda/data-checks/report';
import type { RunReport } from '../../lambda/data-checks/checker';
import { checkDatabase } from '../../lambda/data-checks/run';
import {
  FileStateStore,
  MemoryStateStore,
  statePk,
  type StateStore,
} from '../../lambda/data-checks/state-store';
import { loadDeployment } from '../deployed';
import {
  formatExitCodes,
  parseCliArgs,
  parseDuration,
  parseEnvName,
  UsageError,
  type CliCommand,
  type CliIo,
  type ExitCodeDoc,
} from '../io';

/** A certain loss (1) wins over "could not check" (2): the loss is known whatever the error hides. */
export const CHECK_EXIT_CODES: readonly ExitCodeDoc[] = [
  [0, 'all good (warnings allowed)'],
  [
    1,
    'a rule is violated (rows lost, a floor, a schema change, stale data), even if other checks could not run',
  ],
  [
    2,
    'could not check (connection, a missing table, a query error), bad arguments, or with --deployed no AWS credentials or deployment',
  ],
];

const USAGE = `Usage: npm run check -- --env <dev|staging|prod> [options]

Runs the environment's data checks (lib/config/environments/<env>.ts, section "checks") from here, with
the same code as the scheduled function: one read-only connection, statistics counters first, exact
counts only where needed. Point it at the PRIMARY (a replica's statistics do not see the primary's writes).

Options:
  --env NAME               environment whose checks to run (required)
  --database-url URL       postgres://USER[:PASSWORD]@HOST[:PORT][/DB][?sslmode=verify-full|require|disable&sslrootcert=FILE]
                           (default: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT;
                           database defaults to the config's databaseName, sslmode to verify-full)
  --state FILE             JSON file keeping baselines between runs (noDecrease, appendOnly, schema);
                           without it every run is a first run: baselines only
  --accept SCHEMA.TABLE    accept a reported loss or schema change of a table and re-baseline it
                           (repeatable; needs --state, or --deployed)
  --deployed               with --accept: clear the table's baseline in the deployed environment's state
                           table (AWS credentials for its account), so the scheduled checker takes a new
                           one on its next run; no database connection
  --statement-timeout DUR  override the config's statement timeout, with its unit, e.g. 30s or 2m (1s to 10m)
  --json                   print the full report as JSON instead of the table
  -h, --help               this text

Exit codes:
${formatExitCodes(CHECK_EXIT_CODES)}
Examples:
  npm run check -- --env prod --deployed --accept public.games
  npm run check -- --env prod --database-url "postgres://guardrails_checks@HOST:5432/nba?sslmode=verify-full&sslrootcert=global-bundle.pem" --state prod-checks.json
  PGHOST=127.0.0.1 PGPORT=55442 PGUSER=postgres PGSSLMODE=disable npm run check -- --env dev --json`;

/** Connection settings from --database-url or the PG* variables; a malformed value is a UsageError. */
export function connectionFromArgs(
  url: string | undefined,
  env: NodeJS.ProcessEnv,
  defaults: { database: string; statementTimeoutMs: number; lockTimeoutMs: number },
): ConnectionSettings {
  let host = env.PGHOST;
  let port = env.PGPORT;
  let user = env.PGUSER;
  let password = env.PGPASSWORD;
  let database = env.PGDATABASE;
  let sslMode = env.PGSSLMODE;
  let rootCert = env.PGSSLROOTCERT;
  if (url !== undefined) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UsageError(
        `--database-url: got ${JSON.stringify(url)}, expected postgres://user@host:port/database`,
      );
    }
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
      throw new UsageError(
        `--database-url: got scheme ${JSON.stringify(u.protocol)}, expected postgres:// or postgresql://`,
      );
    }
    host = u.hostname || host;
    port = u.port || port;
    user = u.username ? decodeURIComponent(u.username) : user;
    password = u.password ? decodeURIComponent(u.password) : password;
    database = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : database;
    sslMode = u.searchParams.get('sslmode') ?? sslMode;
    rootCert = u.searchParams.get('sslrootcert') ?? rootCert;
  }
  if (!host) throw new UsageError('no database given: pass --database-url postgres://... or set PGHOST');
  const portNumber = port === undefined || port === '' ? 5432 : Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new UsageError(`port: got ${JSON.stringify(port)}, expected an integer from 1 to 65535`);
  }
  const mode = sslMode ?? 'verify-full';
  if (!isSslMode(mode)) {
    throw new UsageError(`sslmode: got ${JSON.stringify(mode)}, expected verify-full, require or disable`);
  }
  let ca: string | undefined;
  if (rootCert) {
    if (!fs.existsSync(rootCert)) throw new UsageError(`sslrootcert: file ${rootCert} does not exist`);
    ca = fs.readFileSync(rootCert, 'utf8');
  }
  return {
    host,
    port: portNumber,
    user: user ?? 'postgres',
    password,
    database: database ?? defaults.database,
    sslMode: mode,
    statementTimeoutMs: defaults.statementTimeoutMs,
    lockTimeoutMs: defaults.lockTimeoutMs,
    ...(ca ? { ca } : {}),
  };
}

const command: CliCommand = {
  name: 'check',
  summary: 'run the data checks against a database now (table, --json, --state FILE)',
  usage: USAGE,
  exitCodes: CHECK_EXIT_CODES,
  exitCodeFor: () => 2,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCliArgs(argv, {
      env: { type: 'string' },
      'database-url': { type: 'string' },
      state: { type: 'string' },
      accept: { type: 'string', multiple: true },
      'statement-timeout': { type: 'string' },
      json: { type: 'boolean' },
      deployed: { type: 'boolean' },
    });
    const config = loadConfig(parseEnvName(values.env));
    const accept = values.accept ?? [];
    if (values.deployed && (accept.length === 0 || values.state || values['database-url'] || values.json)) {
      throw new UsageError(
        '--deployed goes with --accept SCHEMA.TABLE only (no --state, --database-url or --json)',
      );
    }
    if (accept.length > 0 && !values.state && !values.deployed) {
      throw new UsageError(
        '--accept needs --state FILE (local baselines) or --deployed (the scheduled checker’s)',
      );
    }
    const known = new Set(config.checks.tables.map((t) => `${t.schemaName}.${t.table}`));
    for (const a of accept) {
      if (!known.has(a)) {
        throw new UsageError(
          `--accept: got ${JSON.stringify(a)}, expected one of the checked tables: ${[...known].join(', ')}`,
        );
      }
    }
    if (values.deployed) return acceptDeployed(config.envName, config.region, accept, io);
    const statementTimeoutMs = values['statement-timeout']
      ? parseDuration(values['statement-timeout'], '--statement-timeout', { minMs: 1000, maxMs: 600_000 })
      : config.checks.statementTimeoutSeconds * 1000;
    const settings = connectionFromArgs(values['database-url'], io.env, {
      database: config.database.databaseName,
      statementTimeoutMs,
      lockTimeoutMs: config.checks.lockTimeoutSeconds * 1000,
    });
    const store: StateStore = values.state ? new FileStateStore(values.state) : new MemoryStateStore();
    const plan = { ...config.checks, statementTimeoutSeconds: Math.ceil(statementTimeoutMs / 1000) };

    const report = await checkDatabase(settings, plan, store, { accept });
    const exitCode = exitCodeOf(report);
    if (values.json) {
      io.stdout(
        `${JSON.stringify({ env: config.envName, database: `${settings.host}:${settings.port}/${settings.database}`, verdict: verdictOf(report), exitCode, ...report }, null, 2)}\n`,
      );
    } else {
      const sslGiven = Boolean(io.env.PGSSLMODE) || /[?&]sslmode=/.test(values['database-url'] ?? '');
      io.stdout(
        formatReport(report, {
          hints: sslHint(report, settings, sslGiven),
          acceptCommand: (keys) =>
            `npm run check -- --env ${config.envName}${values['database-url'] ? ' --database-url ...' : ''} --state ${values.state ?? 'FILE'} ${keys.map((k) => `--accept ${k}`).join(' ')}`,
        }),
      );
      if (!values.state && report.results.some((r) => r.status === 'baseline')) {
        io.stderr(
          'note: no --state FILE: this run only took baselines; pass --state to compare consecutive runs.\n',
        );
      }
    }
    return exitCode;
  },
};

/**
 * The default sslmode is verify-full (what RDS needs); a local or test server usually has no TLS. When the
 * connection failed and nobody chose an sslmode, say how to choose one.
 */
export function sslHint(report: RunReport, settings: ConnectionSettings, sslGiven: boolean): string[] {
  const connectFailed = report.results.length === 0 && report.failures.some((f) => f.kind === 'unreachable');
  if (!connectFailed || sslGiven || settings.sslMode === 'disable') return [];
  return [
    `hint: the connection used the default sslmode=${settings.sslMode} (TLS with the server's certificate checked, as RDS needs); ` +
      'a server without TLS (a local one) needs ?sslmode=disable in --database-url, or PGSSLMODE=disable',
  ];
}
/** Deletes the scheduled checker's baselines of `tables`: its next run takes new ones (and a new fingerprint). */
async function acceptDeployed(envName: string, region: string, tables: string[], io: CliIo): Promise<number> {
  const deployment = await loadDeployment(new SSMClient({ region }), envName);
  const tableName = deployment.get('state/table-name');
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region }));
  for (const key of tables) {
    const out = await doc.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { pk: statePk(key), sk: 'baseline' },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = out.Attributes as
      { count?: number; openLoss?: { rowsLost: number; since: string } } | undefined;
    io.stdout(
      old
        ? `${key}: baseline cleared (was ${old.count} rows${old.openLoss ? `, ${old.openLoss.rowsLost} ${old.openLoss.rowsLost === 1 ? 'row' : 'rows'} lost since ${old.openLoss.since}` : ''}); the next scheduled run takes a new one\n`
        : `${key}: no baseline stored (nothing to accept)\n`,
    );
  }
  return 0;
}

export default command;
