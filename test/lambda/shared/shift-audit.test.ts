import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { recentShifts, recordShift } from '../../../lambda/shared/shift-audit';
import { readChecksSummary, writeChecksSummary } from '../../../lambda/shared/checks-summary';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

beforeEach(() => ddb.reset());

describe('shift audit', () => {
  it('records an entry under the audit key with a time-ordered sort key', async () => {
    ddb.on(PutCommand).resolves({});
    const rec = await recordShift(doc, 'state', {
      actor: 'arn:aws:sts::1:assumed-role/ops/alice',
      kind: 'shift',
      from: { blue: 100, green: 0 },
      to: { blue: 90, green: 10 },
      outcome: 'applied',
      forced: false,
      snapshotId: 'snap-1',
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'state',
      Item: expect.objectContaining({ pk: 'shift#audit', sk: `${rec.at}#${rec.id}`, snapshotId: 'snap-1' }),
    });
  });

  it('lists recent entries newest first without the keys', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        { pk: 'shift#audit', sk: 'b', id: '2' },
        { pk: 'shift#audit', sk: 'a', id: '1' },
      ],
    });
    const list = await recentShifts(doc, 'state', 2);
    expect(list.map((r) => r.id)).toEqual(['2', '1']);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { ScanIndexForward: false, Limit: 2 });
  });
});

describe('checks summary', () => {
  it('round-trips the last run verdict', async () => {
    ddb.on(PutCommand).resolves({});
    await writeChecksSummary(doc, 'state', {
      status: 'violation',
      checkedAt: 't',
      problems: ['games: rows lost 1'],
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'checks', sk: 'last-run', status: 'violation' }),
    });
  });

  it('returns undefined when the checker never ran', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(readChecksSummary(doc, 'state')).resolves.toBeUndefined();
  });
});
