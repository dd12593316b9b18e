import type { PlanState } from '../../lambda/shared/rollout-control';

/**
 * For `shift --status`: what a running plan waits for, when it is paused or waiting for evidence (empty
 * otherwise), with the command that moves it on.
 */
export function describePlanWait(state: PlanState): string {
  if (state.status !== 'running') return '';
  if (state.phase === 'paused') {
    const why =
      state.pauseReason === 'pause-step'
        ? 'a pause step'
        : `not enough evidence: ${state.evidence ?? 'unknown'}`;
    return `, PAUSED since ${state.pausedAt ?? '?'} (${why}); go on with --promote [--full], or --abort`;
  }
  if (state.phase === 'baking' && state.evidence && state.evidence !== 'enough evidence')
    return `, waiting for evidence (${state.evidence})`;
  return '';
}
