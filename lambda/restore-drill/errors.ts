/**
 * Errors of the drill tasks. Their `name` is the Step Functions error the state machine sees: the
 * definition retries some by name, and every one of them leads to the cleanup.
 */

/** No snapshot to drill, the named one is not the tool's or not available, or another drill is running. */
export class DrillRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillRefused';
  }
}

/** RDS ended the restore (or the credentials change) in a failed status. */
export class DrillRestoreFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillRestoreFailed';
  }
}

/** The copy did not become available within `snapshots.drill.timeoutMinutes`. */
export class DrillTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillTimedOut';
  }
}

/** The instance cannot be deleted yet (for instance still being modified): the state machine retries. */
export class DrillCleanupPendingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillCleanupPending';
  }
}

/** The restored copy refused the drill's credentials (a password change not applied yet): retried. */
export class DrillAuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillAuthenticationPending';
  }
}
