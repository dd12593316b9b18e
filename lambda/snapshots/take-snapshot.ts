import { CreateDBSnapshotCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { ManifestRecorder } from '../restore-drill/manifest';
import { errorMessage } from '../shared/env';
import { describeSnapshot, listManualSnapshots, type SnapshotInfo } from './rds-snapshots';
import { isManagedSnapshot, snapshotIdentifier, snapshotTags, type SnapshotReason } from './naming';
import { IN_PROGRESS_STATUSES } from './retention';
import { realClock, withRetry, type Clock, type RetryOptions } from './retry';

export type { SnapshotReason } from './naming';

/** RDS's default quota of manual DB snapshots per region. */
export const DEFAULT_MANUAL_SNAPSHOT_QUOTA = 100;

export interface TakeSnapshotOptions {
  readonly envName: string;
  readonly instanceIdentifier: string;
  readonly reason: SnapshotReason;
  /** Wait until available; omitted = return right after CreateDBSnapshot. */
  readonly wait?: {
    readonly timeoutMs: number;
    readonly pollIntervalMs?: number;
    readonly onProgress?: (status: string, elapsedMs: number, percent?: number) => void;
  };
  readonly now?: Date;
  /** Manual snapshots allowed in the region (config `snapshots.quota.limit`). @default 100 */
  readonly quotaLimit?: number;
  /** Time source and sleep (tests). @default the real clock */
  readonly clock?: Clock;
  /** Backoff for throttled RDS calls. */
  readonly retry?: RetryOptions;
  /**
   * Record the snapshot's manifest (the checker's latest exact counts and schema fingerprints, read just
   * before the request) for restore drills. A manifest that cannot be recorded never stops the snapshot:
   * the result says so and the drill of that snapshot fails its manifest rule. @default none
   */
  readonly manifest?: ManifestRecorder;
}

export interface SnapshotResult {
  readonly snapshotId: string;
  readonly snapshotArn?: string;
  readonly status: string;
  readonly elapsedMs: number;
  /** With a manifest recorder: `recorded`, or `failed` (see manifestError). */
  readonly manifest?: 'recorded' | 'failed';
  readonly manifestError?: string;
}

/** The snapshot did not become available within the timeout; it may still finish (check it by id). */
export class SnapshotTimeoutError extends Error {
  constructor(
    readonly snapshotId: string,
    readonly lastStatus: string,
    readonly elapsedMs: number,
  ) {
    super(
      `snapshot ${snapshotId} still ${lastStatus} after ${Math.round(elapsedMs / 1000)}s (timeout); it may yet finish: aws rds describe-db-snapshots --db-snapshot-identifier ${snapshotId}`,
    );
    this.name = 'SnapshotTimeoutError';
  }
}

/** RDS refused the snapshot, or it ended in a status other than available. */
export class SnapshotFailedError extends Error {
  constructor(
    readonly snapshotId: string,
    readonly status: string,
    detail: string,
  ) {
    super(`snapshot ${snapshotId} failed (${status}): ${detail}`);
    this.name = 'SnapshotFailedError';
  }
}

/** Taking one more manual snapshot would exceed the region's quota; the message says what to prune. */
export class QuotaExceededError extends Error {
  constructor(
    message: string,
    readonly used: number,
    readonly limit: number,
    /** The tool's own available snapshots of this environment, oldest first: candidates to prune. */
    readonly pruneCandidates: readonly string[],
  ) {
    super(message);
    this.name = 'QuotaExceededError';
  }
}

/**
 * Takes a manual DB snapshot of the instance: checks the region's manual-snapshot quota first, creates
 * `<project>-<env>-<reason>-<UTC timestamp>` with the tool's tags, and (with `wait`) polls until it is
 * available, reporting progress. Used by the scheduled function, `npm run snapshot` and the traffic shift.
 */
export async function takeSnapshot(rds: RDSClient, opts: TakeSnapshotOptions): Promise<SnapshotResult> {
  const clock = opts.clock ?? realClock;
  const retry: RetryOptions = { clock, ...opts.retry };
  const started = clock.now();
  const now = opts.now ?? new Date(started);
  const snapshotId = snapshotIdentifier(opts.envName, opts.reason, now);

  await assertQuota(rds, opts, retry);

  // The manifest is read BEFORE the request: counts taken later could include rows the snapshot lacks.
  let captured: Awaited<ReturnType<ManifestRecorder['capture']>> | undefined;
  let manifestError: string | undefined;
  if (opts.manifest) {
    try {
      captured = await opts.manifest.capture(now);
    } catch (err) {
      manifestError = `cannot read the checker's state for the manifest: ${errorMessage(err)}`;
    }
  }

  let created;
  try {
    created = await withRetry(
      () =>
        rds.send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: opts.instanceIdentifier,
            DBSnapshotIdentifier: snapshotId,
            Tags: snapshotTags(opts.envName, opts.reason),
          }),
        ),
      retry,
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'SnapshotQuotaExceededFault') {
      throw new QuotaExceededError(
        `RDS refused ${snapshotId}: the region's manual snapshot quota is exhausted (${err.message}). Prune first: npm run snapshot -- --env ${opts.envName} --prune --dry-run`,
        opts.quotaLimit ?? DEFAULT_MANUAL_SNAPSHOT_QUOTA,
        opts.quotaLimit ?? DEFAULT_MANUAL_SNAPSHOT_QUOTA,
        [],
      );
    }
    if (err instanceof Error && /^(InvalidDBInstanceState|DBInstanceNotFound)/.test(err.name)) {
      throw new SnapshotFailedError(snapshotId, 'not-created', `${err.name}: ${err.message}`);
    }
    throw err;
  }
  const snapshotArn = created.DBSnapshot?.DBSnapshotArn;
  const initialStatus = created.DBSnapshot?.Status ?? 'creating';
  if (captured && opts.manifest) {
    try {
      await opts.manifest.save({ snapshotId, ...captured });
    } catch (err) {
      manifestError = `cannot save the manifest of ${snapshotId}: ${errorMessage(err)}`;
    }
  }
  const manifest = opts.manifest
    ? ({
        manifest: manifestError ? 'failed' : 'recorded',
        ...(manifestError ? { manifestError } : {}),
      } as const)
    : {};
  if (!opts.wait) {
    return { snapshotId, snapshotArn, status: initialStatus, elapsedMs: clock.now() - started, ...manifest };
  }

  const { timeoutMs, onProgress } = opts.wait;
  const pollIntervalMs = opts.wait.pollIntervalMs ?? 15_000;
  for (;;) {
    const elapsed = clock.now() - started;
    const current = await describeSnapshot(rds, snapshotId, retry);
    if (current === undefined) {
      throw new SnapshotFailedError(
        snapshotId,
        'missing',
        'RDS no longer lists the snapshot (deleted while creating?)',
      );
    }
    const status = current.status;
    onProgress?.(status, elapsed, current.percentProgress);
    if (status === 'available') {
      return {
        snapshotId,
        snapshotArn: current.arn ?? snapshotArn,
        status,
        elapsedMs: clock.now() - started,
        ...manifest,
      };
    }
    if (!IN_PROGRESS_STATUSES.has(status)) {
      throw new SnapshotFailedError(
        snapshotId,
        status,
        `RDS reports status ${status}; see the instance's events`,
      );
    }
    if (clock.now() - started + pollIntervalMs > timeoutMs) {
      throw new SnapshotTimeoutError(snapshotId, status, clock.now() - started);
    }
    await clock.sleep(pollIntervalMs);
  }
}

async function assertQuota(rds: RDSClient, opts: TakeSnapshotOptions, retry: RetryOptions): Promise<void> {
  const limit = opts.quotaLimit ?? DEFAULT_MANUAL_SNAPSHOT_QUOTA;
  const all = await listManualSnapshots(rds, retry);
  if (all.length + 1 <= limit) return;
  throw quotaError(all, limit, opts.envName, await regionOf(rds));
}

/** The client's region, for messages. */
export async function regionOf(rds: RDSClient): Promise<string> {
  try {
    const region = rds.config.region;
    return typeof region === 'function' ? await region() : String(region);
  } catch {
    return 'this region';
  }
}

function quotaError(
  all: readonly SnapshotInfo[],
  limit: number,
  envName: string,
  region: string,
): QuotaExceededError {
  const ours = all
    .filter((s) => isManagedSnapshot(s, envName) && s.status === 'available')
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
  const managedAll = all.filter((s) => isManagedSnapshot(s, envName)).length;
  const oldest = ours.slice(0, 5).map((s) => s.id);
  const message = [
    `refusing to snapshot: ${region} has ${all.length} of ${limit} manual DB snapshots (${managedAll} made by pipeline-guardrails for ${envName}, ${all.length - managedAll} by others or other environments); one more would exceed the quota.`,
    `Prune by retention first: npm run snapshot -- --env ${envName} --prune --dry-run (then without --dry-run)`,
    oldest.length > 0
      ? `or delete old ones by hand, oldest first: ${oldest.join(', ')}`
      : "none of them are this tool's: delete unneeded manual snapshots by hand or raise the quota (and snapshots.quota.limit).",
  ].join('\n');
  return new QuotaExceededError(
    message,
    all.length,
    limit,
    ours.map((s) => s.id),
  );
}
