import type { ChecksConfig } from '../../lib/config/schema';
import type { RangeRead } from './exact';
import type { Counters, Segment, TableState } from './state';

/**
 * The loss decisions, pure (no server): when a table must be read exactly (typed reasons), how the key ranges
 * read now compare with those of the last exact look, how the next baseline is formed, and which slice of a
 * table the rotating audit reads this run. Counters only ever produce a LookReason; losses come from
 * compareRanges, which sees exact reads only.
 */
export type TableConfig = ChecksConfig['tables'][number];

/** What the statistics and the catalog say about a table this run. */
export interface Observation {
  readonly oid: number;
  readonly relfilenode: number;
  readonly partitioned: boolean;
  readonly counters: Counters;
  /** The single-column integer primary key, if the table has one. */
  readonly keyColumn?: string;
}

/** Why a table is read exactly this run. */
export type LookReason =
  | { readonly kind: 'first-run' }
  | { readonly kind: 'accepted' }
  | { readonly kind: 'replaced' }
  | { readonly kind: 'rewritten' }
  | { readonly kind: 'counters-reset' }
  | { readonly kind: 'deletes-counted'; readonly deletes: number }
  | { readonly kind: 'partitioned' }
  | { readonly kind: 'key-changed' }
  | { readonly kind: 'below-floor' }
  | { readonly kind: 'audit-found-change' }
  | { readonly kind: 'audit' };

export function reasonText(r: LookReason): string {
  switch (r.kind) {
    case 'first-run':
      return 'first run: baseline';
    case 'accepted':
      return 'accepted: new baseline';
    case 'replaced':
      return 'table replaced (new oid)';
    case 'rewritten':
      return 'new relfilenode (TRUNCATE or rewrite)';
    case 'counters-reset':
      return "statistics reset (the table's counters went back)";
    case 'deletes-counted':
      return `${r.deletes} delete(s) counted`;
    case 'partitioned':
      return 'partitioned table (counters live on its partitions)';
    case 'key-changed':
      return 'primary key changed';
    case 'below-floor':
      return 'last exact count below the floor';
    case 'audit-found-change':
      return 'rotating audit found a changed key range';
    case 'audit':
      return 'rotating audit';
  }
}

const COUNTER_FIELDS = ['ins', 'upd', 'del', 'hot', 'scans', 'vacuums', 'analyzes'] as const;

/** A counter that went backwards: this table's statistics were reset (pg_stat_reset, crash, single-table reset). */
export function countersWentBack(before: Counters, now: Counters): boolean {
  return COUNTER_FIELDS.some((f) => now[f] < before[f]);
}

/** Why the whole table must be read exactly this run, or undefined when nothing is suspicious. */
export function lookReason(
  cfg: TableConfig,
  prev: TableState | undefined,
  obs: Observation,
  accepted: boolean,
): LookReason | undefined {
  if (accepted) return { kind: 'accepted' };
  if (!prev) return { kind: 'first-run' };
  if (obs.oid !== prev.oid) return { kind: 'replaced' };
  if (countersWentBack(prev.counters, obs.counters)) return { kind: 'counters-reset' };
  if (obs.relfilenode !== prev.relfilenode) return { kind: 'rewritten' };
  if (obs.counters.del > prev.counters.del)
    return { kind: 'deletes-counted', deletes: obs.counters.del - prev.counters.del };
  if (obs.partitioned) return { kind: 'partitioned' };
  if (obs.keyColumn !== prev.keyColumn || (obs.keyColumn !== undefined && prev.segments === undefined))
    return { kind: 'key-changed' };
  if (cfg.minRows !== undefined && prev.count < cfg.minRows) return { kind: 'below-floor' };
  return undefined;
}

/** A dense range held every key from lo to hi: its count can only fall, and a fall is exactly the loss. */
export const isDense = (s: Segment): boolean => s[2] === s[1] - s[0] + 1;

const fmt = (n: number) => n.toLocaleString('en-US');
export const rangeLabel = (keyColumn: string, s: Segment) =>
  s[0] === s[1] ? `${keyColumn} ${fmt(s[0])}` : `${keyColumn} ${fmt(s[0])}-${fmt(s[1])}`;

/** `id 7, 9-12: 5 rows lost` from the runs of missing keys of a dense range (`...` when more than listed). */
export function missingLabel(keyColumn: string, runs: readonly [number, number][], lost: number): string {
  const listed = runs.reduce((n, [a, b]) => n + b - a + 1, 0);
  const keys = runs.map(([a, b]) => (a === b ? fmt(a) : `${fmt(a)}-${fmt(b)}`)).join(', ');
  return `${keyColumn} ${keys}${listed < lost ? ', ...' : ''}: ${fmt(lost)} row${lost === 1 ? '' : 's'} lost`;
}

export interface RangeComparison {
  /** Rows of the last exact look that are certainly gone. */
  readonly lost: number;
  /** `id 4,100,001-4,151,000: 1 row lost`, one per range that lost rows. */
  readonly lostRanges: readonly string[];
  /** Sparse ranges whose rows changed in a way that can hide a loss (rows added where rows may have gone). */
  readonly unverifiedRanges: readonly string[];
  /** Indexes of ranges whose rows changed (re-read for the next baseline). */
  readonly changed: readonly number[];
  /** Indexes of dense ranges that lost rows (their missing keys can be listed exactly), with lostRanges' index. */
  readonly denseLost: readonly { readonly segment: number; readonly label: number }[];
}

/**
 * Compares each key range of the last exact look with what it holds now. A dense range: rows now < rows then
 * is exactly the loss (keys are unique, nothing can be added inside it). A sparse range: a fall is a certain
 * loss; a changed key-hash sum with no fall, or beside the fall, means rows were also added there, so a loss
 * hidden by them cannot be ruled out ("could not verify").
 */
export function compareRanges(
  keyColumn: string,
  segments: readonly Segment[],
  reads: readonly RangeRead[],
): RangeComparison {
  let lost = 0;
  const lostRanges: string[] = [];
  const unverifiedRanges: string[] = [];
  const changed: number[] = [];
  const denseLost: { segment: number; label: number }[] = [];
  segments.forEach((s, i) => {
    const now = reads[i] ?? { rows: 0, hash: '0' };
    // Dense: the count decides (the keys are unique and all of lo..hi existed). Sparse: count and hash sum.
    if (now.rows === s[2] && (isDense(s) || now.hash === s[3])) return;
    changed.push(i);
    const fall = Math.max(0, s[2] - now.rows);
    if (fall > 0) {
      lost += fall;
      if (isDense(s)) denseLost.push({ segment: i, label: lostRanges.length });
      lostRanges.push(`${rangeLabel(keyColumn, s)}: ${fmt(fall)} row${fall === 1 ? '' : 's'} lost`);
    }
    // Sparse: rows may also have been added in its gaps, which can hide a loss (all rows gone is still exact).
    if (!isDense(s) && now.rows > 0) {
      unverifiedRanges.push(
        `${rangeLabel(keyColumn, s)}: ${fmt(now.rows)} rows now, ${fmt(s[2])} then, and keys changed`,
      );
    }
  });
  return { lost, lostRanges, unverifiedRanges, changed, denseLost };
}

/** Sums of hashint8 values, as decimal strings (they exceed 2^53). */
export const addHash = (a: string, b: string) => (BigInt(a) + BigInt(b)).toString();

/**
 * Ranges in order, with neighbours merged: contiguous dense ranges up to `targetRows` rows each, then, while
 * there are more than `maxRanges`, the neighbouring pair with the fewest rows (which may make a sparse range).
 */
export function normalizeRanges(segments: readonly Segment[], maxRanges = 512): Segment[] {
  const sorted = [...segments].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((n, s) => n + s[2], 0);
  const targetRows = Math.max(1024, Math.ceil(total / 256));
  const out: Segment[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && isDense(last) && isDense(s) && last[1] + 1 === s[0] && last[2] + s[2] <= targetRows) {
      out[out.length - 1] = [last[0], s[1], last[2] + s[2], addHash(last[3], s[3])];
    } else out.push(s);
  }
  while (out.length > maxRanges) {
    let best = 0;
    for (let i = 1; i < out.length - 1; i++) {
      if (out[i]![2] + out[i + 1]![2] < out[best]![2] + out[best + 1]![2]) best = i;
    }
    const [a, b] = [out[best]!, out[best + 1]!];
    out.splice(best, 2, [a[0], b[1], a[2] + b[2], addHash(a[3], b[3])]);
  }
  return out;
}

/**
 * The next baseline: the unchanged ranges, plus the ranges read again for the changed ones and for the new
 * rows (gaps and above the watermark), as `rebuilt` (already read inside [from, to] regions).
 */
export function mergeBaseline(
  kept: readonly Segment[],
  rebuilt: readonly Segment[],
  maxRanges = 512,
): Segment[] {
  return normalizeRanges([...kept, ...rebuilt], maxRanges);
}

/** A slice of the rotating audit: ranges [from, to) of the baseline, and whether it ends the pass. */
export interface AuditSlice {
  readonly from: number;
  readonly to: number;
  readonly completesPass: boolean;
}

/**
 * Which ranges the rotating audit reads this run, so that every row of the table is read exactly at least
 * once every `everyMinutes`, spread evenly over the pass: a range ending at fraction f of the table's rows is
 * read when the pass has run f * (everyMinutes - scheduleMinutes) minutes, so no run carries all of it, the
 * last run of a pass finishes it, and a key is read again about every `everyMinutes`. For a table without key ranges, the
 * whole table once its pass is due.
 */
export function planAudit(
  prev: TableState,
  now: Date,
  scheduleMinutes: number,
  everyMinutes: number,
): AuditSlice | 'whole' | undefined {
  const cycleStart = prev.audit ? Date.parse(prev.audit.cycleStartedAt) : Date.parse(prev.countedAt);
  const elapsed = now.getTime() - cycleStart;
  const span = Math.max(0, everyMinutes - scheduleMinutes) * 60_000;
  const due = span === 0 ? 1 : Math.min(1, Math.max(0, elapsed) / span);
  const segs = prev.segments;
  if (!prev.keyColumn || !segs) return due >= 1 ? 'whole' : undefined;
  const total = segs.reduce((n, s) => n + s[2], 0);
  const next = prev.audit?.nextKey;
  let from = next === undefined ? 0 : segs.findIndex((s) => s[1] >= next);
  if (from < 0) from = segs.length;
  let done = segs.slice(0, from).reduce((n, s) => n + s[2], 0);
  const ideal = due >= 1 ? total : Math.floor(total * due);
  if (from >= segs.length && due < 1) return undefined;
  // A range is read once the pass's ideal progress has reached its end (its last row is due).
  let to = from;
  while (to < segs.length && done + segs[to]![2] <= ideal) done += segs[to++]![2];
  if (due >= 1) to = segs.length;
  if (to === from && to < segs.length) return undefined;
  return { from, to, completesPass: to >= segs.length };
}
