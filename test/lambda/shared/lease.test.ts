import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  acquireLease,
  LeaseLostError,
  LockHeldError,
  readLease,
  releaseShiftLock,
  renewLease,
} from '../../../lambda/shared/shift-audit';
import { TrafficWorld } from '../../support/traffic-world';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

describe('the traffic lease', () => {
  let world: TrafficWorld;
  const now = () => new Date(world.now);
  beforeEach(() => {
    world = new TrafficWorld();
  });

  it('is taken when free, and given back to the same owner and lease id (a retried task)', async () => {
    const lease = await acquireLease(doc, world.tableName, 'alice', 'shift', 120, now);
    expect(await readLease(doc, world.tableName)).toMatchObject({
      owner: 'alice',
      leaseId: lease.leaseId,
      version: 1,
    });
    await expect(
      acquireLease(doc, world.tableName, 'alice', 'shift', 120, now, { leaseId: lease.leaseId }),
    ).resolves.toMatchObject({ leaseId: lease.leaseId });
  });

  it('names the holder when another owner asks, and is not taken over while renewed', async () => {
    const bob = await acquireLease(doc, world.tableName, 'bob', 'plan', 120, now);
    await expect(acquireLease(doc, world.tableName, 'alice', 'shift', 120, now)).rejects.toThrow(
      /locked by bob .* for "plan"/,
    );
    // Alice waits one TTL of her own time to take it over, but bob renews meanwhile: no takeover.
    const attempt = acquireLease(doc, world.tableName, 'alice', 'shift', 120, now, {
      takeOver: {
        sleep: async (ms) => {
          world.now += ms;
          await renewLease(doc, world.tableName, bob, now());
        },
      },
    });
    await expect(attempt).rejects.toThrow(LockHeldError);
    expect(await readLease(doc, world.tableName)).toMatchObject({ owner: 'bob' });
  });

  it("is taken over only after its holder stopped renewing for one TTL of the taker's own time, and fences the old holder", async () => {
    const bob = await acquireLease(doc, world.tableName, 'bob', 'shift', 120, now);
    // Alice's clock is an hour AHEAD: by it bob's lease expired long ago. She still takes it over only
    // after seeing no renewal during one TTL of her own elapsed time.
    const sleeps: number[] = [];
    const alice = await acquireLease(
      doc,
      world.tableName,
      'alice',
      'shift',
      120,
      () => new Date(world.now + 3_600_000),
      { takeOver: { sleep: async (ms) => void (sleeps.push(ms), (world.now += ms)) } },
    );
    expect(sleeps).toEqual([120_000]);
    expect(alice.leaseId).not.toBe(bob.leaseId);
    await expect(renewLease(doc, world.tableName, bob, now())).rejects.toThrow(LeaseLostError);
    // Bob's late release does not free Alice's lease.
    await releaseShiftLock(doc, world.tableName, 'bob', bob.leaseId);
    expect(await readLease(doc, world.tableName)).toMatchObject({ owner: 'alice' });
  });

  it('a taker whose clock is BEHIND is refused at once: skew delays a takeover, never makes two holders', async () => {
    await acquireLease(doc, world.tableName, 'bob', 'shift', 120, now);
    world.now += 10 * 60_000; // bob is gone
    const attempt = acquireLease(
      doc,
      world.tableName,
      'alice',
      'shift',
      120,
      () => new Date(world.now - 3_600_000),
      {
        takeOver: { sleep: async (ms) => void (world.now += ms) },
      },
    );
    await expect(attempt).rejects.toThrow(LockHeldError);
    expect(await readLease(doc, world.tableName)).toMatchObject({ owner: 'bob' });
  });

  it('release is idempotent and only releases its own lease', async () => {
    const lease = await acquireLease(doc, world.tableName, 'alice', 'shift', 120, now);
    await releaseShiftLock(doc, world.tableName, 'bob');
    expect(await readLease(doc, world.tableName)).toBeDefined();
    await releaseShiftLock(doc, world.tableName, 'alice', lease.leaseId);
    await releaseShiftLock(doc, world.tableName, 'alice', lease.leaseId);
    expect(await readLease(doc, world.tableName)).toBeUndefined();
  });
});
