import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { EnvironmentConfig } from '../../lib/config';
import { DRILL_STATE_MACHINE_PARAMETER } from '../../lambda/restore-drill/names';
import type { DrillResult, DrillState } from '../../lambda/restore-drill/tasks';
import { isValidSnapshotIdentifier, snapshotPrefix, snapshotTimestamp } from '../../lambda/snapshots/naming';
import type { Clock } from '../../lambda/snapshots/retry';
import { loadDeployment, NotDeployedError } from '../deployed';
import { describeFailure, formatFailure } from '../errors';
import { UsageError, type CliIo } from '../io';

/**
 * `npm run snapshot -- --env <env> --drill [--snapshot ID] [--follow]`: starts the environment's restore
 * drill state machine (the same one the schedule starts) and, with --follow, reports its phase until it
 * ends. The drill itself (restore, verify, cleanup on every path) runs in Step Functions, so a closed
 * laptop never leaves a drill instance behind.
 */

export interface DrillArgs {
  readonly snapshotId?: string;
  readonly follow: boolean;
}

export interface DrillDeps {
  readonly ssm: (region: string) => SSMClient;
  readonly sfn: (region: string) => SFNClient;
  readonly clock: Clock;
  readonly pollIntervalMs: number;
}

/** Checks --snapshot before any AWS call: a valid identifier of this environment's tool snapshots. */
export function checkDrillSnapshotId(envName: string, id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (!isValidSnapshotIdentifier(id)) {
    throw new UsageError(`--snapshot: got ${JSON.stringify(id)}, expected an RDS snapshot identifier`);
  }
  if (!id.startsWith(snapshotPrefix(envName))) {
    throw new UsageError(
      `--snapshot: got ${JSON.stringify(id)}, expected a pipeline-guardrails snapshot of ${envName} (${snapshotPrefix(envName)}...): the drill restores only the tool's own`,
    );
  }
  return id;
}

/** Phases a person reads, by task state. */
const PHASES: Record<string, string> = {
  Start: 'picking the snapshot',
  Restore: 'requesting the restore',
  WaitForRestore: 'restoring',
  RestoreStatus: 'restoring',
  'Restored?': 'restoring',
  SetCredentials: 'setting the copy’s credentials',
  WaitForCredentials: 'setting the copy’s credentials',
  CredentialsStatus: 'setting the copy’s credentials',
  'CredentialsReady?': 'setting the copy’s credentials',
  Verify: 'verifying the copy',
  Cleanup: 'deleting the drill instance',
  PageCleanupFailed: 'cleanup failed: paging',
  Record: 'recording the result',
};

export async function runDrillCommand(
  args: DrillArgs,
  config: EnvironmentConfig,
  deps: DrillDeps,
  io: CliIo,
): Promise<number> {
  if (!config.snapshots.drill) {
    io.stderr(
      `error: ${config.envName} has no restore drill (snapshots.drill is not configured in lib/config/environments/${config.envName}.ts)\n`,
    );
    return 2;
  }
  const sfn = deps.sfn(config.region);
  let executionArn: string;
  try {
    const deployment = await loadDeployment(deps.ssm(config.region), config.envName);
    const stateMachineArn = deployment.get(DRILL_STATE_MACHINE_PARAMETER.join('/'));
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: `cli-${snapshotTimestamp(new Date(deps.clock.now()))}`,
        input: JSON.stringify({
          trigger: 'cli',
          ...(args.snapshotId ? { snapshotId: args.snapshotId } : {}),
        }),
      }),
    );
    executionArn = started.executionArn ?? '';
  } catch (err) {
    // One error path (cli/errors.ts): a message and a hint, no stack trace; not deployed is a configuration
    // problem (2), any other AWS failure 1.
    io.stderr(formatFailure(describeFailure(err, { envName: config.envName })));
    return err instanceof NotDeployedError ? 2 : 1;
  }
  io.stderr(
    `restore drill started (${args.snapshotId ?? 'newest snapshot with a manifest'}, ${config.snapshots.drill.instanceClass})\n`,
  );
  io.stdout(`${executionArn}\n`);
  if (!args.follow) {
    io.stderr(
      `follow it: npm run snapshot -- --env ${config.envName} --drill --follow, or the Step Functions console\n`,
    );
    return 0;
  }
  return follow(sfn, executionArn, deps, io);
}

async function follow(sfn: SFNClient, executionArn: string, deps: DrillDeps, io: CliIo): Promise<number> {
  const t0 = deps.clock.now();
  let lastPhase = '';
  for (;;) {
    const ex = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (ex.status !== 'RUNNING') return report(ex.status ?? 'UNKNOWN', ex.output, ex.error, ex.cause, io);
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20 }),
    );
    const entered = history.events?.find((e) => e.stateEnteredEventDetails)?.stateEnteredEventDetails?.name;
    const phase = (entered && PHASES[entered]) ?? entered ?? 'starting';
    if (phase !== lastPhase) {
      const m = Math.floor((deps.clock.now() - t0) / 60_000);
      io.stderr(`  ${String(m).padStart(4)} min  ${phase}\n`);
      lastPhase = phase;
    }
    await deps.clock.sleep(deps.pollIntervalMs);
  }
}

function report(
  status: string,
  output: string | undefined,
  error: string | undefined,
  cause: string | undefined,
  io: CliIo,
): number {
  if (status === 'SUCCEEDED') {
    const doc = JSON.parse(output ?? '{}') as DrillState & { result?: DrillResult };
    const restoreMin = doc.restore?.available ? (doc.restore.elapsedSeconds / 60).toFixed(1) : '?';
    const verifyS = doc.verification ? Math.round(doc.verification.durationMs / 1000) : '?';
    io.stderr(
      `drill succeeded: ${doc.drill?.snapshotId ?? '?'} restored in ${restoreMin} min, verified in ${verifyS} s (${doc.verification?.findings.length ?? 0} checks passed), instance deleted\n`,
    );
    return 0;
  }
  io.stderr(`drill ${status.toLowerCase()}: ${error ?? ''}${cause ? `: ${cause}` : ''}\n`);
  return 1;
}
