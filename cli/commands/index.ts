import type { CliCommand } from '../io';

/**
 * The subcommands of `pipeline-guardrails`, loaded on demand so one command's dependencies never slow
 * another. Each capability adds its line here.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  shift: {
    summary: 'Move traffic between blue and green, guarded; --rollback, --status',
    load: () => import('./shift').then((m) => m.default),
  },
};
