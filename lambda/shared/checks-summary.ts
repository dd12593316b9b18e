import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The data checker's verdict of its last run, kept in the state table at pk `checks`, sk `last-run`, so the
 * traffic shift can refuse to move traffic while data is being lost (and knows when the checker is silent).
 */
export const CHECKS_SUMMARY_KEY = { pk: 'checks', sk: 'last-run' } as const;

export type ChecksStatus = 'ok' | 'violation' | 'error';

export interface ChecksSummary {
  readonly status: ChecksStatus;
  /** ISO time the run finished. */
  readonly checkedAt: string;
  /** One line per violated rule or failed check, e.g. `games: rows lost 3 (noDecrease)`. */
  readonly problems: readonly string[];
  readonly durationMs?: number;
}

export async function writeChecksSummary(
  doc: DynamoDBDocumentClient,
  tableName: string,
  summary: ChecksSummary,
): Promise<void> {
  await doc.send(new PutCommand({ TableName: tableName, Item: { ...CHECKS_SUMMARY_KEY, ...summary } }));
}

export async function readChecksSummary(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<ChecksSummary | undefined> {
  const out = await doc.send(
    new GetCommand({ TableName: tableName, Key: CHECKS_SUMMARY_KEY, ConsistentRead: true }),
  );
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = out.Item;
  return rest as ChecksSummary;
}

/**
 * How old the last verdict may be before the traffic gates treat the checker as silent: three schedules,
 * and never less than 15 minutes (one slow or failed run must not close the gate). One policy for the
 * shift command and the rollout state machine.
 */
export function checksMaxAgeMinutes(scheduleMinutes: number): number {
  return Math.max(3 * scheduleMinutes, 15);
}

/** What a traffic gate needs to know of the last verdict; each caller words its own message. */
export type ChecksJudgement =
  | { readonly present: false }
  | {
      readonly present: true;
      readonly summary: ChecksSummary;
      /** The checker said `ok`. */
      readonly clean: boolean;
      /** Milliseconds since the run (NaN when `checkedAt` is unreadable). */
      readonly ageMs: number;
      /** Younger than the allowed age (false when the age is unknown). */
      readonly fresh: boolean;
    };

/** The gate is open only for a present, clean and fresh verdict. */
export function judgeChecksSummary(
  summary: ChecksSummary | undefined,
  nowMs: number,
  maxAgeMs: number,
): ChecksJudgement {
  if (!summary) return { present: false };
  const ageMs = nowMs - Date.parse(summary.checkedAt);
  return { present: true, summary, clean: summary.status === 'ok', ageMs, fresh: ageMs <= maxAgeMs };
}
