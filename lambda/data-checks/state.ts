import { z } from 'zod';

/**
 * What the checker remembers of one table between runs, as one zod schema: the state stores validate every
 * entry they read with it and every entry they write, so a broken entry is an error naming the table and
 * where it came from, never a silent wrong verdict, and is never written back.
 */
const count = z.number().int().nonnegative();
const safeInt = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const isoTime = z.iso.datetime({ offset: true });

/** Cumulative statistics counters of the table at the last look; they only decide *when* to look. */
export const countersSchema = z.object({
  ins: count,
  upd: count,
  del: count,
  /** HOT updates, scans, vacuums and analyzes: any of them going backwards means the counters were reset. */
  hot: count.default(0),
  scans: count.default(0),
  vacuums: count.default(0),
  analyzes: count.default(0),
});
export type Counters = z.infer<typeof countersSchema>;

/**
 * A key range of the last exact look: `[lo, hi, rows, hashSum]`, rows with lo <= key <= hi and the sum of
 * hashint8(key) over them (a decimal string). `rows === hi - lo + 1` makes it a *dense* range: every key in it
 * existed, so (keys being unique) its count can only fall, and a fall is exactly the rows lost.
 */
export const segmentSchema = z
  .tuple([safeInt, safeInt, count, z.string().regex(/^-?\d+$/)])
  .refine(
    ([lo, hi, rows]) => hi >= lo && rows <= hi - lo + 1 && rows > 0,
    'a key range [lo, hi, rows, hashSum] with lo <= hi and 0 < rows <= hi - lo + 1',
  );
export type Segment = z.infer<typeof segmentSchema>;

export const columnFingerprintSchema = z.object({
  /** Attribute number: a column dropped and re-added gets a new one; a renamed one keeps it. */
  attnum: z.number().int().positive(),
  name: z.string(),
  type: z.string(),
  notNull: z.boolean(),
});
export type ColumnFingerprint = z.infer<typeof columnFingerprintSchema>;

export const schemaFingerprintSchema = z.object({
  /** Fingerprint format; older checkers wrote none (their fingerprint is taken again). */
  v: z.literal(2).optional(),
  hash: z.string(),
  columns: z.array(columnFingerprintSchema.partial({ attnum: true })),
  /** Attribute numbers of dropped columns (their slots stay in the table). */
  dropped: z.array(z.number().int().positive()).default([]),
  primaryKey: z.array(z.string()),
});
export type SchemaFingerprint = z.infer<typeof schemaFingerprintSchema>;

/** A loss that was reported and stays reported until someone accepts it (`check --accept TABLE`). */
export const openLossSchema = z.object({
  rowsLost: count,
  since: isoTime,
  detail: z.string(),
  /** Key ranges that lost rows, for people: `id 4100001-4151000: 1 row lost`. */
  ranges: z.array(z.string()).default([]),
});
export type OpenLoss = z.infer<typeof openLossSchema>;

/** "Could not verify since T": stays open (status error) until an exact look proves it or it is accepted. */
export const unverifiedSchema = z.object({
  since: isoTime,
  detail: z.string(),
  /** Key ranges that could not be verified; empty for a table without a usable key. */
  ranges: z.array(z.string()).default([]),
});
export type Unverified = z.infer<typeof unverifiedSchema>;

/** Where the rotating exact audit stands: the next key to read, and when the current pass began. */
export const auditSchema = z.object({
  nextKey: safeInt.optional(),
  cycleStartedAt: isoTime,
});
export type AuditState = z.infer<typeof auditSchema>;

export const tableStateSchema = z.object({
  /** `schema.table`. */
  key: z.string().min(1),
  oid: count,
  relfilenode: count,
  /** Exact row count at the last look (`countedAt`). */
  count,
  countedAt: isoTime,
  counters: countersSchema,
  /** The single-column integer primary key the key ranges are over; absent: no usable key. */
  keyColumn: z.string().optional(),
  /** Largest key at the last look: rows above it are new (not yet in the baseline). */
  watermark: safeInt.optional(),
  /** Key ranges of the last look, ascending and disjoint (present when keyColumn is). */
  segments: z.array(segmentSchema).optional(),
  fingerprint: schemaFingerprintSchema.optional(),
  openLoss: openLossSchema.optional(),
  unverified: unverifiedSchema.optional(),
  audit: auditSchema.optional(),
});
export type TableState = z.infer<typeof tableStateSchema>;

/** Validates one state entry; the error names the table and where the entry came from. */
export function parseTableState(raw: unknown, key: string, source: string): TableState {
  const r = tableStateSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`)
      .join('; ');
    throw new Error(`checks state of ${key} in ${source} is invalid (${issues}); fix or remove that entry`);
  }
  if (r.data.key !== key) {
    throw new Error(`checks state of ${key} in ${source} is invalid (key: holds ${r.data.key})`);
  }
  const segs = r.data.segments ?? [];
  for (let i = 1; i < segs.length; i++) {
    if (segs[i]![0] <= segs[i - 1]![1]) {
      throw new Error(
        `checks state of ${key} in ${source} is invalid (segments: key ranges overlap or are out of order at ${i})`,
      );
    }
  }
  return r.data;
}
