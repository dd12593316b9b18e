import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InvalidStateEntry, type SchemaFingerprint, type StateStore } from '../data-checks/state-store';
import { manifestKey } from './names';

/**
 * The manifest of a snapshot: what the data checker knew, just before the snapshot was requested, of every
 * configured table (its latest exact count, when it was counted, and its schema fingerprint). A table
 * protected by noDecrease or appendOnly had at least `count` rows when the snapshot was taken, so its
 * restored copy must hold at least as many. Kept in the state table at pk `snapshot-manifest#<snapshot id>`.
 */
export interface ManifestTable {
  /** `schema.table`. */
  readonly key: string;
  readonly count: number;
  readonly countedAt: string;
  readonly fingerprint?: SchemaFingerprint;
}

export interface SnapshotManifest {
  readonly snapshotId: string;
  /** When the checker's state was read (just before CreateDBSnapshot). */
  readonly capturedAt: string;
  readonly tables: readonly ManifestTable[];
  /** Configured tables the checker had no baseline for yet (not compared by a drill). */
  readonly missing: readonly string[];
}

/** Reads the checker's latest baselines of `tableKeys` (call it BEFORE requesting the snapshot). */
export async function captureManifest(
  store: StateStore,
  tableKeys: readonly string[],
  now: Date,
): Promise<Omit<SnapshotManifest, 'snapshotId'>> {
  const states = await store.load(tableKeys);
  const tables: ManifestTable[] = [];
  const missing: string[] = [];
  for (const key of tableKeys) {
    const s = states.get(key);
    // No baseline, or one the checker itself rejects (validated on read): nothing to hold the copy to.
    if (!s || s instanceof InvalidStateEntry) {
      missing.push(key);
      continue;
    }
    tables.push({
      key,
      count: s.count,
      countedAt: s.countedAt,
      ...(s.fingerprint ? { fingerprint: s.fingerprint } : {}),
    });
  }
  return { capturedAt: now.toISOString(), tables, missing };
}

export async function saveManifest(
  doc: DynamoDBDocumentClient,
  tableName: string,
  manifest: SnapshotManifest,
): Promise<void> {
  await doc.send(
    new PutCommand({ TableName: tableName, Item: { ...manifestKey(manifest.snapshotId), ...manifest } }),
  );
}

export async function loadManifest(
  doc: DynamoDBDocumentClient,
  tableName: string,
  snapshotId: string,
): Promise<SnapshotManifest | undefined> {
  const out = await doc.send(
    new GetCommand({ TableName: tableName, Key: manifestKey(snapshotId), ConsistentRead: true }),
  );
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = out.Item;
  return rest as SnapshotManifest;
}

/** What takeSnapshot needs to record a manifest: capture before the request, save after it. */
export interface ManifestRecorder {
  capture(now: Date): Promise<Omit<SnapshotManifest, 'snapshotId'>>;
  save(manifest: SnapshotManifest): Promise<void>;
}

/** The recorder of the deployed functions: the checker's DynamoDB state, the manifest in the same table. */
export function stateTableManifestRecorder(
  doc: DynamoDBDocumentClient,
  tableName: string,
  store: StateStore,
  tableKeys: readonly string[],
): ManifestRecorder {
  return {
    capture: (now) => captureManifest(store, tableKeys, now),
    save: (m) => saveManifest(doc, tableName, m),
  };
}
