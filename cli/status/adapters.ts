/**
 * Guardrails whose data another capability is building (restore drills, blue/green parity, the automatic
 * rollback's armed window). `status` reads them only through these functions, so connecting one is a change
 * here and nowhere else: return `{ available: true, value }` from the capability's own reader. Until then
 * each answers "not available" with why, and `status` shows that (it never guesses a value).
 */
import type { Deployment } from '../deployed';
import type { StatusDeps } from './sections';

/** A value, or why there is none: not built yet, not configured in this environment, or no run so far. */
export type Availability<T> =
  | { readonly available: true; readonly value: T }
  | {
      readonly available: false;
      readonly why: 'not-built' | 'not-configured' | 'no-data';
      readonly detail: string;
    };

export interface RestoreDrillResult {
  /** ISO time the drill finished. */
  readonly at: string;
  readonly outcome: 'passed' | 'failed';
  /** The snapshot restored. */
  readonly snapshotId?: string;
  /** e.g. "restored in 14m, 40/40 tables, counts within 0.1%". */
  readonly detail?: string;
}

export interface ParityResult {
  /** ISO time of the comparison. */
  readonly at: string;
  readonly outcome: 'match' | 'mismatch' | 'error';
  /** Share of compared outputs that matched, 0 to 100. */
  readonly matchedPercent?: number;
  readonly detail?: string;
}

export interface AutoRollbackArming {
  readonly armed: boolean;
  /** ISO time the armed window ends, when it has one. */
  readonly until?: string;
  readonly detail?: string;
}

export interface AdapterContext {
  readonly envName: string;
  readonly deployment: Deployment;
  readonly deps: StatusDeps;
  readonly nowMs: number;
}

/** The last restore drill (issue 14). */
export async function readRestoreDrill(_ctx: AdapterContext): Promise<Availability<RestoreDrillResult>> {
  return { available: false, why: 'not-built', detail: 'restore drills are not part of this version yet' };
}

/** The latest blue-vs-green output parity result. */
export async function readParity(_ctx: AdapterContext): Promise<Availability<ParityResult>> {
  return { available: false, why: 'not-built', detail: 'the parity check is not part of this version yet' };
}

/** Whether the automatic rollback would act now (its armed window). */
export async function readAutoRollbackArming(ctx: AdapterContext): Promise<Availability<AutoRollbackArming>> {
  if (!ctx.deployment.has('rollout/state-machine-arn')) {
    return {
      available: false,
      why: 'not-configured',
      detail: 'no progressive rollout (and so no automatic rollback) is deployed in this environment',
    };
  }
  return {
    available: false,
    why: 'not-built',
    detail: 'the armed window is not published by this version yet',
  };
}
