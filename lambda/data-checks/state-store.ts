import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Cumulative pg_stat_user_tables counters of a table at the moment of its last exact count. */
export interface Counters {
  readonly ins: number;
  readonly upd: number;
  readonly del: number;
  /** n_mod_since_analyze: committed inserts + updates + deletes since the last ANALYZE. */
  readonly mod: number;
  /** analyze_count + autoanalyze_count (an ANALYZE resets `mod`). */
  readonly analyzes: number;
}

export interface ColumnFingerprint {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
}

export interface SchemaFingerprint {
  readonly hash: string;
  readonly columns: readonly ColumnFingerprint[];
  readonly primaryKey: readonly string[];
}

/** A loss that was reported and stays reported until someone accepts it (`check --accept TABLE`). */
export interface OpenLoss {
  readonly rowsLost: number;
  readonly deletesSeen: number;
  readonly since: string;
  readonly detail: string;
}

/** What the checker remembers of one table between runs. */
export interface TableState {
  /** `schema.table`. */
  readonly key: string;
  readonly oid: number;
  readonly relfilenode: number;
  /** Exact row count at `countedAt`. */
  readonly count: number;
  readonly countedAt: string;
  readonly counters: Counters;
  /** Statistics epoch: cluster and database `stats_reset` times; a change means counters were reset. */
  readonly epoch: string;
  /** pg_stat_database.xact_rollback of the database at `countedAt`. */
  readonly rollbacks: number;
  readonly fingerprint?: SchemaFingerprint;
  readonly openLoss?: OpenLoss;
  /** Consecutive runs whose counters did not settle (a writer's statistics still in flight). */
  readonly unsettledRuns?: number;
}

/** Where baselines live between runs: DynamoDB for the Lambda, a JSON file for the CLI. */
export interface StateStore {
  load(keys: readonly string[]): Promise<Map<string, TableState>>;
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

  async load(keys: readonly string[]): Promise<Map<string, TableState>> {
    const out = new Map<string, TableState>();
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
          const { pk: _pk, sk: _sk, ...state } = item;
          out.set((state as TableState).key, state as TableState);
        }
        request =
          (res.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
        if (request.length > 0) await sleep(50 * 2 ** attempt);
      }
    }
    return out;
  }

  async save(states: readonly TableState[]): Promise<void> {
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

  private read(): Record<string, TableState> {
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
    return p.tables as Record<string, TableState>;
  }

  async load(keys: readonly string[]): Promise<Map<string, TableState>> {
    const all = this.read();
    return new Map(keys.filter((k) => k in all).map((k) => [k, all[k]!]));
  }

  async save(states: readonly TableState[]): Promise<void> {
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
  async load(keys: readonly string[]): Promise<Map<string, TableState>> {
    return new Map(keys.filter((k) => this.states.has(k)).map((k) => [k, this.states.get(k)!]));
  }
  async save(states: readonly TableState[]): Promise<void> {
    for (const s of states) this.states.set(s.key, structuredClone(s));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
