import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseTableState, type TableState } from './state';

export type {
  AuditState,
  ColumnFingerprint,
  Counters,
  OpenLoss,
  SchemaFingerprint,
  Segment,
  TableState,
  Unverified,
} from './state';

/** A stored entry that failed validation: the table is reported "could not check" and the entry is left alone. */
export class InvalidStateEntry {
  constructor(readonly message: string) {}
}

/** Validates one entry, or returns why it is invalid (one broken entry must not stop the other tables). */
function parseEntry(raw: unknown, key: string, source: string): TableState | InvalidStateEntry {
  try {
    return parseTableState(raw, key, source);
  } catch (err) {
    return new InvalidStateEntry((err as Error).message);
  }
}

/** Where baselines live between runs: DynamoDB for the Lambda, a JSON file for the CLI. */
export interface StateStore {
  load(keys: readonly string[]): Promise<Map<string, TableState | InvalidStateEntry>>;
  save(states: readonly TableState[]): Promise<void>;
}

/** pk of a table's baseline item in the state table; sk is `baseline`. */
export const statePk = (key: string) => `checks#table#${key}`;
const STATE_SK = 'baseline';

/** The environment's state table (STATE_TABLE_NAME): one item per table, pk `checks#table#<schema>.<table>`. */
export class DynamoStateStore implements StateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly maxAttempts = 5,
  ) {}

  async load(keys: readonly string[]): Promise<Map<string, TableState | InvalidStateEntry>> {
    const out = new Map<string, TableState | InvalidStateEntry>();
    for (let i = 0; i < keys.length; i += 100) {
      let request: Record<string, unknown>[] = keys
        .slice(i, i + 100)
        .map((k) => ({ pk: statePk(k), sk: STATE_SK }));
      for (let attempt = 1; request.length > 0; attempt++) {
        if (attempt > this.maxAttempts) throw new Error(`state table ${this.tableName}: reads throttled`);
        const res = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } },
          }),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) {
          const { pk, sk: _sk, ...state } = item;
          const key = String(pk).replace(/^checks#table#/, '');
          out.set(key, parseEntry(state, key, `state table ${this.tableName} (pk ${String(pk)})`));
        }
        request =
          (res.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        if (request.length > 0) await sleep(50 * 2 ** attempt);
      }
    }
    return out;
  }

  async save(states: readonly TableState[]): Promise<void> {
    for (const s of states) parseTableState(s, s.key, `the entry about to be written to ${this.tableName}`);
    for (let i = 0; i < states.length; i += 25) {
      let writes: Record<string, unknown>[] = states.slice(i, i + 25).map((s) => ({
        PutRequest: { Item: { pk: statePk(s.key), sk: STATE_SK, ...s } },
      }));
      for (let attempt = 1; writes.length > 0; attempt++) {
        if (attempt > this.maxAttempts) throw new Error(`state table ${this.tableName}: writes throttled`);
        const res = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: writes } }),
        );
        writes = (res.UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined) ?? [];
        if (writes.length > 0) await sleep(50 * 2 ** attempt);
      }
    }
  }
}

/** A JSON file `{ "version": 1, "tables": { "<schema.table>": TableState } }`, for `check --state FILE`. */
export class FileStateStore implements StateStore {
  constructor(readonly file: string) {}

  private read(): Record<string, unknown> {
    if (!fs.existsSync(this.file)) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw new Error(`state file ${this.file} is not valid JSON (${(err as Error).message})`, {
        cause: err,
      });
    }
    const p = parsed as { version?: unknown; tables?: unknown };
    if (p.version !== 1 || typeof p.tables !== 'object' || p.tables === null) {
      throw new Error(`state file ${this.file} is not a pipeline-guardrails checks state file (version 1)`);
    }
    return p.tables as Record<string, unknown>;
  }

  async load(keys: readonly string[]): Promise<Map<string, TableState | InvalidStateEntry>> {
    const all = this.read();
    return new Map(
      keys.filter((k) => k in all).map((k) => [k, parseEntry(all[k], k, `state file ${this.file}`)]),
    );
  }

  async save(states: readonly TableState[]): Promise<void> {
    for (const s of states) parseTableState(s, s.key, `the entry about to be written to ${this.file}`);
    const all = this.read();
    for (const s of states) all[s.key] = s;
    fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
    // Write then rename, so an interrupted run never leaves half a file.
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ version: 1, tables: all }, null, 2)}\n`);
    fs.renameSync(tmp, this.file);
  }
}

/** In memory, for benchmarks and tests of the checker itself. */
export class MemoryStateStore implements StateStore {
  readonly states = new Map<string, TableState>();
  async load(keys: readonly string[]): Promise<Map<string, TableState | InvalidStateEntry>> {
    return new Map(keys.filter((k) => this.states.has(k)).map((k) => [k, this.states.get(k)!]));
  }
  async save(states: readonly TableState[]): Promise<void> {
    for (const s of states) this.states.set(s.key, parseTableState(structuredClone(s), s.key, 'memory'));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
