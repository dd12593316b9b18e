import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  DynamoStateStore,
  FileStateStore,
  statePk,
  type TableState,
} from '../../../lambda/data-checks/state-store';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const state = (key: string, count = 10): TableState => ({
  key,
  oid: 1,
  relfilenode: 2,
  count,
  countedAt: '2026-01-01T00:00:00.000Z',
  counters: { ins: 1, upd: 0, del: 0, mod: 1, analyzes: 0 },
  epoch: 'a|b',
  rollbacks: 0,
});

beforeEach(() => ddb.reset());

describe('DynamoStateStore', () => {
  it('keeps each table under its own checks#table# key and loads them back without the keys', async () => {
    ddb.on(BatchGetCommand).resolves({
      Responses: { state: [{ pk: statePk('public.games'), sk: 'baseline', ...state('public.games') }] },
    });
    const loaded = await new DynamoStateStore(doc, 'state').load(['public.games', 'public.events']);
    expect(ddb).toHaveReceivedCommandWith(BatchGetCommand, {
      RequestItems: {
        state: {
          ConsistentRead: true,
          Keys: [
            { pk: 'checks#table#public.games', sk: 'baseline' },
            { pk: 'checks#table#public.events', sk: 'baseline' },
          ],
        },
      },
    });
    expect(loaded.get('public.games')).toEqual(state('public.games'));
    expect(loaded.has('public.events')).toBe(false);
  });

  it('retries unprocessed writes, in batches of 25', async () => {
    const states = Array.from({ length: 30 }, (_, i) => state(`public.t${i}`));
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { state: [{ PutRequest: { Item: { pk: 'x' } } }] } })
      .resolves({});
    await new DynamoStateStore(doc, 'state').save(states);
    const calls = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!.state!.length);
    expect(calls).toEqual([25, 1, 5]);
  });

  it('gives up, loudly, when writes stay throttled', async () => {
    ddb
      .on(BatchWriteCommand)
      .resolves({ UnprocessedItems: { state: [{ PutRequest: { Item: { pk: 'x' } } }] } });
    await expect(new DynamoStateStore(doc, 'state', 2).save([state('public.a')])).rejects.toThrow(
      /writes throttled/,
    );
  });
});

describe('FileStateStore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-store-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips states and keeps tables it was not asked about', async () => {
    const store = new FileStateStore(path.join(dir, 'nested', 'state.json'));
    expect((await store.load(['public.a'])).size).toBe(0);
    await store.save([state('public.a'), state('public.b')]);
    await store.save([state('public.a', 11)]);
    const loaded = await store.load(['public.a', 'public.b']);
    expect(loaded.get('public.a')?.count).toBe(11);
    expect(loaded.get('public.b')?.count).toBe(10);
  });

  it('refuses a file that is not a checks state file', async () => {
    const file = path.join(dir, 'other.json');
    fs.writeFileSync(file, '{"hello": 1}');
    await expect(new FileStateStore(file).load(['x'])).rejects.toThrow(
      /not a pipeline-guardrails checks state file/,
    );
    fs.writeFileSync(file, 'not json');
    await expect(new FileStateStore(file).load(['x'])).rejects.toThrow(/is not valid JSON/);
  });
});
