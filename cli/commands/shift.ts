import { loadConfig } from '../../lib/config';
import type { CliCommand, CliIo } from '../io';
import { createShiftDeps, type ShiftDeps } from '../shift/deps';
import { parseShiftArgs, SHIFT_USAGE, type PlanCommandOptions } from '../shift/options';
import { runShift } from '../shift/run';
import { EXIT_CODE_HELP, exitCodeForFailure } from '../shift/exit-codes';

/** The progressive rollout (cli/shift/plan.ts, issue 7), loaded only when a plan flag is given. */
async function runPlan(opts: PlanCommandOptions, io: CliIo): Promise<number> {
  const mod = (await import('../shift/plan')) as {
    runPlanCommand: (o: PlanCommandOptions, io: CliIo) => Promise<number>;
  };
  return mod.runPlanCommand(opts, io);
}

/**
 * `pipeline-guardrails shift`: parses (bad arguments exit 2 before any AWS call), then runs against the
 * environment's account with clients for its region. `deps` is for tests.
 */
export async function runShiftCommand(
  argv: string[],
  io: CliIo,
  deps?: (region: string) => ShiftDeps,
): Promise<number> {
  const opts = parseShiftArgs(argv);
  if (opts.mode === 'plan') return runPlan(opts.plan, io);
  const region = loadConfig(opts.envName).region;
  return runShift(opts, io, (deps ?? createShiftDeps)(region));
}

const shift: CliCommand = {
  name: 'shift',
  summary:
    'Move traffic between blue and green (preflight, snapshot, bake, auto-rollback); --rollback, --status',
  usage: SHIFT_USAGE,
  exitCodes: EXIT_CODE_HELP,
  // Failures run.ts did not turn into a code itself (the plan modes, a config error).
  exitCodeFor: exitCodeForFailure,
  run: (argv, io) => runShiftCommand(argv, io),
};

export default shift;
