import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The latest parity result of each configured pair, in the environment's state table at pk `parity`,
 * sk `pair#<name>`: written by the scheduled parity function, read by the traffic gates (parity-gate.ts).
 */
export const PARITY_SUMMARY_PK = 'parity';
export const paritySummarySk = (pair: string) => `pair#${pair}`;

export interface ParitySummary {
  readonly pair: string;
  /** identical / different / error: the engine's word. */
  readonly status: 'identical' | 'different' | 'error';
  /** ISO time the comparison finished. */
  readonly checkedAt: string;
  readonly differences: number;
  /** The budget the run was judged against (the gate uses the deployed config's own). */
  readonly maxDifferences: number;
  readonly onlyInBlue: number;
  readonly onlyInGreen: number;
  readonly changed: number;
  readonly duplicateKeys: { readonly blue: number; readonly green: number };
  readonly nullKeys: { readonly blue: number; readonly green: number };
  readonly rows: { readonly blue: number; readonly green: number };
  readonly comparedShare: number;
  /** Why it could not compare (status `error`). */
  readonly failure?: string;
}

export async function writeParitySummary(
  doc: DynamoDBDocumentClient,
  tableName: string,
  summary: ParitySummary,
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: tableName,
      Item: { pk: PARITY_SUMMARY_PK, sk: paritySummarySk(summary.pair), ...summary },
    }),
  );
}

/** Every pair's latest summary (one Query, paginated). */
export async function readParitySummaries(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<ParitySummary[]> {
  const out: ParitySummary[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': PARITY_SUMMARY_PK, ':sk': 'pair#' },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const { pk: _pk, sk: _sk, ...rest } = item;
      out.push(rest as ParitySummary);
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}
