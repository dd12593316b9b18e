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
  InvalidStateEntry,
  MemoryStateStore,
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
  counters: { ins: 1, upd: 0, del: 0, hot: 0, scans: 0, vacuums: 0, analyzes: 0 },
  keyColumn: 'id',
  segments: [[1, count, count, '12345']],
  watermark: count,
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
    expect((loaded.get('public.a') as TableState).count).toBe(11);
    expect((loaded.get('public.b') as TableState).count).toBe(10);
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

describe('every entry is validated on read and before it is written, with the one schema', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-valid-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a missing field', (s: Record<string, unknown>) => delete s.counters, /counters/],
    ['a negative count', (s: Record<string, unknown>) => (s.count = -1), /count/],
    ['a wrong key', (s: Record<string, unknown>) => (s.key = 'public.other'), /holds public.other/],
    [
      'overlapping key ranges',
      (s: Record<string, unknown>) =>
        (s.segments = [
          [1, 10, 10, '1'],
          [5, 20, 3, '2'],
        ]),
      /overlap/,
    ],
    [
      'a range with more rows than keys',
      (s: Record<string, unknown>) => (s.segments = [[1, 3, 4, '1']]),
      /segments/,
    ],
  ])(
    'a file entry with %s is reported, naming the table and the file, and never written back',
    async (_n, breakIt, why) => {
      const file = path.join(dir, `${Math.random()}.json`);
      const broken: Record<string, unknown> = structuredClone(state('public.a')) as never;
      breakIt(broken);
      const raw = `${JSON.stringify({ version: 1, tables: { 'public.a': broken, 'public.b': state('public.b') } })}\n`;
      fs.writeFileSync(file, raw);
      const loaded = await new FileStateStore(file).load(['public.a', 'public.b']);
      const bad = loaded.get('public.a');
      expect(bad).toBeInstanceOf(InvalidStateEntry);
      expect((bad as InvalidStateEntry).message).toMatch(
        /checks state of public\.a in state file .*json is invalid/,
      );
      expect((bad as InvalidStateEntry).message).toMatch(why);
      expect(loaded.get('public.b')).toEqual(state('public.b'));
      expect(fs.readFileSync(file, 'utf8')).toBe(raw);
    },
  );

  it('a DynamoDB item missing a field is reported with its key', async () => {
    const { counters: _c, ...partial } = state('public.games');
    ddb.on(BatchGetCommand).resolves({
      Responses: { state: [{ pk: statePk('public.games'), sk: 'baseline', ...partial }] },
    });
    const loaded = await new DynamoStateStore(doc, 'state').load(['public.games']);
    expect((loaded.get('public.games') as InvalidStateEntry).message).toMatch(
      /checks state of public\.games in state table state \(pk checks#table#public\.games\) is invalid \(counters/,
    );
  });

  it('refuses to write an invalid entry, to any store', async () => {
    const bad = { ...state('public.a'), countedAt: 'yesterday' } as TableState;
    await expect(new MemoryStateStore().save([bad])).rejects.toThrow(/countedAt/);
    await expect(new FileStateStore(path.join(dir, 'w.json')).save([bad])).rejects.toThrow(/countedAt/);
    expect(fs.existsSync(path.join(dir, 'w.json'))).toBe(false);
    await expect(new DynamoStateStore(doc, 'state').save([bad])).rejects.toThrow(/countedAt/);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('reads an entry of the previous checker (no key ranges) so the next look rebuilds them', async () => {
    const v1 = {
      key: 'public.a',
      oid: 1,
      relfilenode: 2,
      count: 10,
      countedAt: '2026-01-01T00:00:00.000Z',
      counters: { ins: 1, upd: 0, del: 0, mod: 1, analyzes: 0 },
      epoch: 'a|b',
      rollbacks: 0,
    };
    const file = path.join(dir, 'v1.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, tables: { 'public.a': v1 } }));
    const loaded = (await new FileStateStore(file).load(['public.a'])).get('public.a') as TableState;
    expect(loaded).toMatchObject({ count: 10, counters: { ins: 1, del: 0, hot: 0 } });
    expect(loaded.segments).toBeUndefined();
  });
});
