import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config';
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
import { readSections, statusExitCode, type Level, type Section, type StatusDeps } from '../status/sections';

export const STATUS_EXIT_CODES: readonly ExitCodeDoc[] = [
  [0, 'every guardrail is fine (those not built or not configured are shown as such)'],
  [
    1,
    'something needs attention: a data-check problem or stale verdict, an old or failed snapshot, an alarm in ALARM, weight drift, a stuck plan, ...',
  ],
  [
    2,
    'could not look: no credentials, not deployed, or a guardrail could not be read (and none needs attention); or bad arguments',
  ],
];

const USAGE = `Usage: npm run status -- --env <dev|staging|prod> [--json] [--watch [--interval 30s]]
       npx pipeline-guardrails status --env prod

One screen for the cutover: every guardrail of the environment at once, as the lead reads it before saying
"go" for the next step. Changes nothing.
  data checks    the last verdict and its age (stale after the gates' limit)
  snapshot       the newest of this tool's snapshots, and whether the schedule is kept
  restore drill  the last restore drill                  parity    the latest blue-vs-green result
  weights        the listener's weights and the weights parameter, and whether they agree
  lease          who holds the shift lock                plan      the progressive rollout, if one runs
  auto-rollback  whether automatic rollback is armed     alarms    every alarm of the environment in ALARM
A guardrail that is not built yet, or not configured here, says so ("not available", "not configured").

Options:
  --env NAME        environment (required)
  --json            one JSON object (with --watch: one per line, per refresh)
  --watch           refresh until Ctrl-C
  --interval DUR    time between refreshes with --watch, from 5s to 1h (default 30s)
  -h, --help        this text

Exit codes:
${formatExitCodes(STATUS_EXIT_CODES)}`;

const LEVEL_LABEL: Record<Level, string> = {
  ok: 'ok',
  attention: 'ATTENTION',
  unknown: 'UNKNOWN',
  'not-available': 'n/a',
};

const OVERALL: Record<0 | 1 | 2, string> = {
  0: 'ALL GOOD',
  1: 'NEEDS ATTENTION',
  2: 'COULD NOT LOOK AT EVERYTHING',
};

/** The screen: a header with the overall verdict, then one line per guardrail (details indented under it). */
export function formatStatus(envName: string, atMs: number, sections: readonly Section[]): string {
  const code = statusExitCode(sections);
  const attention = sections.filter((s) => s.level === 'attention').length;
  const at = new Date(atMs).toISOString().slice(0, 16).replace('T', ' ');
  const lines = [
    `pipeline-guardrails ${envName} status at ${at} UTC: ${OVERALL[code]}${attention > 0 ? ` (${attention})` : ''}`,
  ];
  const titleWidth = Math.max(...sections.map((s) => s.title.length));
  const levelWidth = Math.max(...sections.map((s) => LEVEL_LABEL[s.level].length));
  for (const s of sections) {
    lines.push(`  ${s.title.padEnd(titleWidth)}  ${LEVEL_LABEL[s.level].padEnd(levelWidth)}  ${s.summary}`);
    for (const d of s.details ?? []) lines.push(`  ${''.padEnd(titleWidth + levelWidth + 2)}    ${d}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface StatusOptions {
  readonly envName: string;
  readonly json: boolean;
  readonly watch: boolean;
  readonly intervalMs: number;
}

export function parseStatusArgs(argv: string[]): StatusOptions {
  const { values } = parseCliArgs(argv, {
    env: { type: 'string' },
    json: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
    interval: { type: 'string' },
  });
  const envName = parseEnvName(values.env);
  if (values.interval !== undefined && !values.watch) throw new UsageError('--interval goes with --watch');
  const intervalMs =
    values.interval === undefined
      ? 30_000
      : parseDuration(values.interval, '--interval', { minMs: 5000, maxMs: 3_600_000 });
  return { envName, json: values.json, watch: values.watch, intervalMs };
}

export function createStatusDeps(region: string): StatusDeps {
  const common = { region };
  return {
    ssm: new SSMClient(common),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient(common)),
    cloudwatch: new CloudWatchClient(common),
    elbv2: new ElasticLoadBalancingV2Client(common),
    rds: new RDSClient(common),
    sfn: new SFNClient(common),
    clock: {
      now: () => Date.now(),
      sleep: (ms, signal) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    },
  };
}

export interface RunStatusOptions {
  /** Tests: stop --watch after this many screens. */
  readonly maxRefreshes?: number;
}

/**
 * Reads and prints every guardrail; with --watch, again every interval until Ctrl-C (or `maxRefreshes`).
 * Resolves to the exit code of the last screen.
 */
export async function runStatus(
  opts: StatusOptions,
  io: CliIo,
  deps: StatusDeps,
  run: RunStatusOptions = {},
): Promise<number> {
  const config = loadConfig(opts.envName);
  // Ctrl-C during --watch ends the wait at once, and the command with the last screen's exit code.
  const interrupted = new AbortController();
  const onInterrupt = () => interrupted.abort();
  if (opts.watch) process.once('SIGINT', onInterrupt);
  let code: number;
  try {
    for (let n = 1; ; n++) {
      // Each refresh re-reads the deployment: a redeploy mid-watch changes what there is to read.
      const deployment = await loadDeployment(deps.ssm, config.envName);
      const sections = await readSections(config, deployment, deps);
      const at = deps.clock.now();
      code = statusExitCode(sections);
      if (opts.json) {
        const doc = { env: config.envName, at: new Date(at).toISOString(), exitCode: code, sections };
        io.stdout(`${JSON.stringify(doc, null, opts.watch ? undefined : 2)}\n`);
      } else {
        if (opts.watch && io.isTTY) io.stdout('\x1b[H\x1b[2J');
        io.stdout(formatStatus(config.envName, at, sections));
        if (opts.watch) io.stdout(`(refreshing every ${opts.intervalMs / 1000}s; Ctrl-C to stop)\n`);
      }
      const last = run.maxRefreshes !== undefined && n >= run.maxRefreshes;
      if (!opts.watch || interrupted.signal.aborted || last) return code;
      await deps.clock.sleep(opts.intervalMs, interrupted.signal);
      if (interrupted.signal.aborted) return code;
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

export function createStatusCommand(makeDeps: (region: string) => StatusDeps = createStatusDeps): CliCommand {
  return {
    name: 'status',
    summary: 'Every guardrail of an environment on one screen; --json, --watch',
    usage: USAGE,
    exitCodes: STATUS_EXIT_CODES,
    exitCodeFor: () => 2,
    async run(argv: string[], io: CliIo): Promise<number> {
      const opts = parseStatusArgs(argv);
      return runStatus(opts, io, makeDeps(loadConfig(opts.envName).region));
    },
  };
}

export default createStatusCommand();
