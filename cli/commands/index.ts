import type { CliCommand } from '../io';

/**
 * The subcommands of `pipeline-guardrails`, loaded on demand so one command's dependencies never slow
 * another. Each capability adds its line here.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  check: {
    summary: 'Run the data checks against a database now; --json, --state FILE',
    load: () => import('./check').then((m) => m.default),
  },
  parity: {
    summary: 'Compare blue and green outputs row by row (config pairs or two tables); --json',
    load: () => import('./parity').then((m) => m.default),
  },
  shift: {
    summary: 'Move traffic between blue and green, guarded; --rollback, --status',
    load: () => import('./shift').then((m) => m.default),
  },
  status: {
    summary: 'Every guardrail of an environment on one screen; --json, --watch',
    load: () => import('./status').then((m) => m.default),
  },
  snapshot: {
    summary: 'Take an RDS snapshot now and wait for it; --prune applies retention',
    load: () => import('./snapshot').then((m) => m.default),
  },
};
