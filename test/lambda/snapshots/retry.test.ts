import { isThrottling, withRetry } from '../../../lambda/snapshots/retry';
import { awsError, fakeClock } from './fixtures';

describe('isThrottling', () => {
  it('recognises throttling by name, by the SDK classification and by HTTP 429', () => {
    expect(isThrottling(awsError('ThrottlingException'))).toBe(true);
    expect(isThrottling(awsError('Throttling'))).toBe(true);
    expect(isThrottling(awsError('RequestLimitExceeded'))).toBe(true);
    expect(isThrottling(Object.assign(new Error('x'), { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottling(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 429 } }))).toBe(true);
  });

  it('does not retry what retrying cannot fix', () => {
    expect(isThrottling(awsError('AccessDenied', 'no', 403))).toBe(false);
    expect(isThrottling(awsError('DBSnapshotNotFoundFault', 'gone', 404))).toBe(false);
    expect(isThrottling('Throttling')).toBe(false);
    expect(isThrottling(null)).toBe(false);
  });
});

describe('withRetry', () => {
  it('backs off exponentially with full jitter, capped', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 6) throw awsError('Throttling');
        return 'ok';
      },
      { clock, random: () => 0.999, baseDelayMs: 100, maxDelayMs: 1000, attempts: 6 },
    );
    expect(result).toBe('ok');
    expect(clock.sleeps).toEqual([99, 199, 399, 799, 999]);
  });

  it('reports each retry and gives up after the last attempt with the last error', async () => {
    const clock = fakeClock();
    const retries: number[] = [];
    const attempt = withRetry(() => Promise.reject(awsError('Throttling', 'slow down')), {
      clock,
      attempts: 3,
      onRetry: (_e, n) => retries.push(n),
    });
    await expect(attempt).rejects.toThrow('slow down');
    expect(retries).toEqual([1, 2]);
  });
});
