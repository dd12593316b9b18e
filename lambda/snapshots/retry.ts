/**
 * Backoff for RDS throttling. The SDK retries transient errors itself, but a burst of Describe calls from
 * several runs (scheduled function, CLI, shift command) can exhaust its few attempts; this wrapper keeps
 * trying throttled calls with capped exponential backoff and full jitter, and gives up on anything else
 * at once.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface RetryOptions {
  /** Attempts in all, the first included. @default 6 */
  readonly attempts?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  /** @default 10000 */
  readonly maxDelayMs?: number;
  /** @default realClock */
  readonly clock?: Clock;
  /** Random number in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Called before each wait (for logging). */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
]);

/** True for the throttling errors of RDS, CloudWatch and the SDK's own classification. */
export function isThrottling(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as {
    name?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
  };
  if (typeof e.name === 'string' && THROTTLING_NAMES.has(e.name)) return true;
  if (e.$retryable?.throttling === true) return true;
  return e.$metadata?.httpStatusCode === 429;
}

/** Runs `fn`, retrying throttling errors; rethrows the last error when attempts run out. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  const base = opts.baseDelayMs ?? 200;
  const cap = opts.maxDelayMs ?? 10_000;
  const clock = opts.clock ?? realClock;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isThrottling(err) || attempt >= attempts) throw err;
      const delay = Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
      opts.onRetry?.(err, attempt, delay);
      await clock.sleep(delay);
    }
  }
}
