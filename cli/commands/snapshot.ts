import { RDSClient } from '@aws-sdk/client-rds';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError, isEnvironmentName, loadConfig, type EnvironmentConfig } from '../../lib/config';
import { ENVIRONMENT_NAMES } from '../../lib/project';
import { runMaintenance, type MaintenanceReport, type RegionReport } from '../../lambda/snapshots/maintain';
import type { SnapshotReason } from '../../lambda/snapshots/naming';
import { realClock, type Clock } from '../../lambda/snapshots/retry';
import {
  QuotaExceededError,
  SnapshotFailedError,
  SnapshotTimeoutError,
  takeSnapshot,
} from '../../lambda/snapshots/take-snapshot';
import type { Logger } from '../../lambda/shared/logger';
import { loadDeployment } from '../deployed';
import { describeFailure, formatFailure } from '../errors';
import {
  formatExitCodes,
  parseCliArgs,
  parseDuration,
  UsageError,
  type CliCommand,
  type CliIo,
  type ExitCodeDoc,
} from '../io';

export const SNAPSHOT_EXIT_CODES: readonly ExitCodeDoc[] = [
  [0, 'done (the snapshot is available, or accepted with --no-wait; or the prune ran)'],
  [
    1,
    'the snapshot failed, timed out or would exceed the quota; a deletion failed or was not confirmed; a followed drill did not succeed; an AWS error (credentials included)',
  ],
  [2, 'bad arguments or configuration, or --prune without a terminal and without --yes'],
];
import { checkDrillSnapshotId, runDrillCommand } from '../snapshot/drill';

const USAGE = `Usage: npm run snapshot -- --env <dev|staging|prod> [options]

Takes a manual RDS snapshot of the environment's database now (the same code as the scheduled function
and the traffic shift), waits until it is available with a progress line, and prints its identifier on
stdout (progress goes to stderr, so ID=$(npm run -s snapshot -- --env prod) works). With --prune, applies
the environment's retention in its region and the copy region instead.

Options:
  --env NAME        environment (required); region, instance and retention come from its config
  --reason REASON   manual (default) or pre-shift (kept at least snapshots.retention.preShiftDays)
  --timeout DUR     how long to wait for "available", with its unit, e.g. 45m or 2h, from 1m to 1d
                    (default: snapshots.waitTimeoutMinutes)
  --no-wait         return as soon as RDS accepted the snapshot
  --prune           apply retention now: delete what it allows (only this tool's snapshots)
  --dry-run         with --prune: print what would be deleted and why, delete nothing
  --yes             with --prune: do not ask before deleting (needed when not on a terminal)
  --drill           start a restore drill (restore into an isolated instance, verify, delete); prints its execution ARN
  --snapshot ID     with --drill: drill this snapshot of the tool instead of the newest with a manifest
  --follow          with --drill: report its phase until it ends; exit 0 only when it succeeded
  -h, --help        this text

Exit codes:
${formatExitCodes(SNAPSHOT_EXIT_CODES)}
Examples:
  npm run snapshot -- --env prod --reason pre-shift
  npm run snapshot -- --env prod --prune --dry-run
  npm run snapshot -- --env prod --drill --follow`;

/** What the command touches outside the process; tests pass mocked clients and a fake clock. */
export interface SnapshotCommandDeps {
  readonly rds: (region: string) => RDSClient;
  readonly ssm: (region: string) => SSMClient;
  /** Step Functions, for --drill. @default a client of the region */
  readonly sfn?: (region: string) => SFNClient;
  readonly clock: Clock;
  /** @default 15000 */
  readonly pollIntervalMs: number;
}

export const defaultDeps = (): SnapshotCommandDeps => ({
  rds: (region) => new RDSClient({ region }),
  ssm: (region) => new SSMClient({ region }),
  sfn: (region) => new SFNClient({ region }),
  clock: realClock,
  pollIntervalMs: 15_000,
});

const OPTIONS = {
  env: { type: 'string' },
  reason: { type: 'string' },
  timeout: { type: 'string' },
  'no-wait': { type: 'boolean' },
  prune: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean' },
  drill: { type: 'boolean' },
  snapshot: { type: 'string' },
  follow: { type: 'boolean' },
} as const;

interface ParsedArgs {
  readonly envName: string;
  readonly reason: SnapshotReason;
  readonly timeoutMs?: number;
  readonly wait: boolean;
  readonly prune: boolean;
  readonly dryRun: boolean;
  readonly yes: boolean;
  /** --drill: start a restore drill instead (its own flags). */
  readonly drill?: { readonly snapshotId?: string; readonly follow: boolean };
}

/** Parses and checks the arguments; every problem is a UsageError, raised before any AWS call. */
export function parseSnapshotArgs(argv: string[]): ParsedArgs {
  const { values } = parseCliArgs(argv, OPTIONS);
  const envName = values.env;
  if (envName === undefined) throw new UsageError(`--env is required (${ENVIRONMENT_NAMES.join(', ')})`);
  if (!isEnvironmentName(envName)) {
    throw new UsageError(
      `--env: got ${JSON.stringify(envName)}, expected one of ${ENVIRONMENT_NAMES.join(', ')}`,
    );
  }
  const reason = values.reason ?? 'manual';
  if (reason !== 'manual' && reason !== 'pre-shift') {
    throw new UsageError(
      `--reason: got ${JSON.stringify(reason)}, expected manual or pre-shift (scheduled snapshots are the schedule's)`,
    );
  }
  const prune = values.prune ?? false;
  const only = (flag: string, set: unknown, mode: string) => {
    if (set !== undefined) throw new UsageError(`${flag} only goes with ${mode}`);
  };
  if (values.drill) {
    for (const f of ['reason', 'timeout', 'no-wait', 'prune', 'dry-run', 'yes'] as const) {
      if (values[f] !== undefined) throw new UsageError(`--${f} does not go with --drill`);
    }
    return {
      envName,
      reason: 'manual',
      wait: true,
      prune: false,
      dryRun: false,
      yes: false,
      drill: { snapshotId: checkDrillSnapshotId(envName, values.snapshot), follow: values.follow ?? false },
    };
  }
  only('--snapshot', values.snapshot, '--drill');
  only('--follow', values.follow, '--drill');
  if (prune) {
    only('--reason', values.reason, 'taking a snapshot (not --prune)');
    only('--timeout', values.timeout, 'taking a snapshot (not --prune)');
    only('--no-wait', values['no-wait'], 'taking a snapshot (not --prune)');
    if (values['dry-run'] && values.yes) throw new UsageError('--yes makes no sense with --dry-run');
  } else {
    only('--dry-run', values['dry-run'], '--prune');
    only('--yes', values.yes, '--prune');
  }
  if (values.timeout !== undefined && values['no-wait']) {
    throw new UsageError('--timeout and --no-wait contradict each other');
  }
  // The bounds of snapshots.waitTimeoutMinutes (1 to 1440 minutes).
  const timeoutMs =
    values.timeout === undefined
      ? undefined
      : parseDuration(values.timeout, '--timeout', { minMs: 60_000, maxMs: 1440 * 60_000 });
  return {
    envName,
    reason,
    timeoutMs,
    wait: !values['no-wait'],
    prune,
    dryRun: values['dry-run'] ?? false,
    yes: values.yes ?? false,
  };
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** The instance the snapshots are of: from the config, or (created database) from the deployment. */
async function instanceIdentifier(config: EnvironmentConfig, deps: SnapshotCommandDeps): Promise<string> {
  if (config.database.mode === 'existing') return config.database.instanceIdentifier;
  const deployment = await loadDeployment(deps.ssm(config.region), config.envName);
  return deployment.get('database/instance-identifier');
}

export function createSnapshotCommand(makeDeps: () => SnapshotCommandDeps = defaultDeps): CliCommand {
  return {
    name: 'snapshot',
    summary:
      'Take an RDS snapshot now and wait for it; --prune applies retention; --drill runs a restore drill',
    usage: USAGE,
    exitCodes: SNAPSHOT_EXIT_CODES,
    exitCodeFor: (kind) => (kind === 'config' ? 2 : 1),
    async run(argv: string[], io: CliIo): Promise<number> {
      const args = parseSnapshotArgs(argv);
      let config: EnvironmentConfig;
      try {
        config = loadConfig(args.envName);
      } catch (err) {
        if (err instanceof ConfigError) {
          io.stderr(`${err.message}\n`);
          return 2;
        }
        throw err;
      }
      const deps = makeDeps();
      if (args.drill) {
        const sfn = deps.sfn ?? ((region: string) => new SFNClient({ region }));
        return runDrillCommand(args.drill, config, { ...deps, sfn }, io);
      }
      return args.prune ? prune(args, config, deps, io) : snapshot(args, config, deps, io);
    },
  };
}

async function snapshot(
  args: ParsedArgs,
  config: EnvironmentConfig,
  deps: SnapshotCommandDeps,
  io: CliIo,
): Promise<number> {
  const timeoutMs = args.timeoutMs ?? config.snapshots.waitTimeoutMinutes * 60_000;
  try {
    const instance = await instanceIdentifier(config, deps);
    io.stderr(`snapshot of ${instance} (${config.envName}, ${config.region}), reason ${args.reason}\n`);
    let lastLine = '';
    let lastWhat = '';
    let lastAt = -Infinity;
    const result = await takeSnapshot(deps.rds(config.region), {
      envName: config.envName,
      instanceIdentifier: instance,
      reason: args.reason,
      quotaLimit: config.snapshots.quota.limit,
      clock: deps.clock,
      now: new Date(deps.clock.now()),
      wait: args.wait
        ? {
            timeoutMs,
            pollIntervalMs: deps.pollIntervalMs,
            onProgress: (status, elapsedMs, percent) => {
              const line = `  ${formatElapsed(elapsedMs).padStart(7)}  ${status}${percent === undefined ? '' : ` ${percent}%`}`;
              if (io.isTTY) {
                io.stderr(`\r${line.padEnd(lastLine.length)}`);
                lastLine = line;
                return;
              }
              // Not a terminal (CI, a log): a line when something changed, else one a minute.
              const what = `${status} ${percent ?? ''}`;
              if (what !== lastWhat || elapsedMs - lastAt >= 60_000) {
                io.stderr(`${line}\n`);
                lastWhat = what;
                lastAt = elapsedMs;
              }
            },
          }
        : undefined,
    });
    if (io.isTTY && lastLine) io.stderr('\n');
    io.stderr(
      args.wait
        ? `available after ${formatElapsed(result.elapsedMs)}\n`
        : `started (${result.status}); not waiting: aws rds describe-db-snapshots --region ${config.region} --db-snapshot-identifier ${result.snapshotId}\n`,
    );
    io.stdout(`${result.snapshotId}\n`);
    return 0;
  } catch (err) {
    if (io.isTTY) io.stderr('\n');
    if (
      err instanceof QuotaExceededError ||
      err instanceof SnapshotFailedError ||
      err instanceof SnapshotTimeoutError
    ) {
      io.stderr(`error: ${err.message}\n`);
      return 1;
    }
    if (err instanceof UsageError) throw err;
    io.stderr(formatFailure(describeFailure(err, { envName: config.envName })));
    return 1;
  }
}

/** A Logger that discards: the prune prints its report instead. */
const quiet: Logger = {
  log: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

async function prune(
  args: ParsedArgs,
  config: EnvironmentConfig,
  deps: SnapshotCommandDeps,
  io: CliIo,
): Promise<number> {
  const s = config.snapshots;
  const options = (dryRun: boolean) => ({
    envName: config.envName,
    source: { rds: deps.rds(config.region), region: config.region, retention: s.retention },
    copy: s.copy
      ? {
          rds: deps.rds(s.copy.region),
          region: s.copy.region,
          kmsKeyArn: s.copy.kmsKeyArn,
          retention: s.copy.retention ?? s.retention,
        }
      : undefined,
    startCopies: false,
    dryRun,
    now: new Date(deps.clock.now()),
    log: quiet,
    retry: { clock: deps.clock },
  });
  let plan: MaintenanceReport;
  try {
    plan = await runMaintenance(options(true));
  } catch (err) {
    io.stderr(formatFailure(describeFailure(err, { envName: config.envName })));
    return 1;
  }
  const toDelete = plan.source.deleted.length + (plan.copy?.deleted.length ?? 0);
  for (const r of [plan.source, plan.copy]) if (r) io.stdout(formatRegion(r, config, args.dryRun));
  if (args.dryRun || toDelete === 0) {
    io.stdout(
      toDelete === 0
        ? 'nothing to delete: every snapshot of this tool is kept by a retention rule.\n'
        : `dry run: ${toDelete} snapshot(s) would be deleted; nothing was changed.\n`,
    );
    return 0;
  }
  if (!args.yes) {
    if (!io.isTTY) {
      io.stderr(`refusing to delete ${toDelete} snapshot(s) without a terminal to confirm: pass --yes\n`);
      return 2;
    }
    const answer = await io.prompt(`delete these ${toDelete} snapshot(s)? type "delete" to confirm: `);
    if (answer.trim() !== 'delete') {
      io.stderr('not confirmed; nothing was deleted.\n');
      return 1;
    }
  }
  const done = await runMaintenance(options(false));
  const deleted = done.source.deleted.length + (done.copy?.deleted.length ?? 0);
  for (const r of [done.source, done.copy]) {
    for (const d of r?.deleted ?? []) io.stdout(`deleted ${d.snapshot.id} (${r?.region}): ${d.rule}\n`);
  }
  for (const f of done.failures) io.stderr(`error: ${f}\n`);
  io.stdout(`${deleted} snapshot(s) deleted.\n`);
  return done.failures.length > 0 ? 1 : 0;
}

function formatRegion(r: RegionReport, config: EnvironmentConfig, dryRun: boolean): string {
  const lines = [
    `${r.region} (${r.role}): ${r.manualCount + r.deleted.length} manual snapshots, ${r.managedCount + r.deleted.length} of them pipeline-guardrails ${config.envName}, quota ${config.snapshots.quota.limit}`,
  ];
  const created = (d?: Date) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '(no time yet)');
  const rows: [string, string, string, string, string][] = [
    ...r.kept.map(
      (k) =>
        ['keep', k.snapshot.id, k.snapshot.status, created(k.snapshot.createdAt), k.reasons.join(', ')] as [
          string,
          string,
          string,
          string,
          string,
        ],
    ),
    ...r.deleted.map(
      (d) =>
        [
          dryRun ? 'would delete' : 'delete',
          d.snapshot.id,
          d.snapshot.status,
          created(d.snapshot.createdAt),
          `${d.rule}: ${d.detail}`,
        ] as [string, string, string, string, string],
    ),
  ].sort((a, b) => (a[3] < b[3] ? 1 : a[3] > b[3] ? -1 : 0));
  const width = Math.max(0, ...rows.map((row) => row[1].length));
  for (const [verdict, id, status, at, why] of rows) {
    lines.push(`  ${verdict.padEnd(12)} ${id.padEnd(width)}  ${status.padEnd(9)} ${at}  ${why}`);
  }
  if (r.foreignCount > 0)
    lines.push(
      `  (${r.foreignCount} other manual snapshot(s) in ${r.region} are not this tool's: never touched)`,
    );
  return `${lines.join('\n')}\n`;
}

export default createSnapshotCommand();
