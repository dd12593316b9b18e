import {
  compareRanges,
  lookReason,
  mergeBaseline,
  missingLabel,
  normalizeRanges,
  planAudit,
  rangeLabel,
  reasonText,
  type LookReason,
  type Observation,
  type TableConfig,
} from './decide';
import {
  buildKeyRanges,
  exactCount,
  countKeyRange,
  denseRuns,
  missingKeys,
  readRanges,
  UnsafeKeyError,
  type KeyedTable,
} from './exact';
import { acceptHint, rowsText, type RuleResult, type RuleStatus, type TableReport } from './results';
import type { Query } from './schema-fingerprint';
import type { OpenLoss, Segment, TableState, Unverified } from './state';

/**
 * One table's integrity check inside the run's snapshot: decide whether to read it (counters, catalog,
 * rotating audit), read it exactly when so, compare with the last exact look, and form the next state.
 */
export interface TableCheck {
  readonly results: RuleResult[];
  readonly report: Omit<TableReport, 'key' | 'schemaChanged'>;
  /** The state to save (undefined: save nothing for this table). */
  readonly state?: TableState;
  /** Set when the table was read: whole (`exact`, with why) or a slice of key ranges (`audit`). */
  readonly read?: { readonly kind: 'exact' | 'audit'; readonly text: string };
}

export interface TableCheckInput {
  readonly cfg: TableConfig;
  readonly key: string;
  readonly prev?: TableState;
  readonly obs: Observation;
  readonly accepted: boolean;
  readonly now: Date;
  readonly scheduleMinutes: number;
  readonly exactEveryMinutes: number;
  readonly query: Query;
  /** This run's audit counts read in advance for all tables at once (see auditRuns). */
  readonly counted?: ReadonlyMap<string, number>;
}

/** The runs of contiguous dense ranges this table's audit slice will count, if it has one this run. */
export function auditRuns(input: Omit<TableCheckInput, 'query'>): [number, number][] {
  const { cfg, prev, obs, now } = input;
  if (!prev || !obs.keyColumn || !prev.segments || prev.keyColumn !== obs.keyColumn) return [];
  if (lookReason(cfg, prev, obs, input.accepted)) return [];
  const slice = planAudit(prev, now, input.scheduleMinutes, input.exactEveryMinutes);
  if (!slice || slice === 'whole') return [];
  return denseRuns(prev.segments.slice(slice.from, slice.to));
}

const SUSPICIOUS: ReadonlySet<LookReason['kind']> = new Set([
  'replaced',
  'rewritten',
  'counters-reset',
  'deletes-counted',
  'partitioned',
  'audit-found-change',
]);
const MAX_NOTED_RANGES = 20;

export async function checkTable(input: TableCheckInput): Promise<TableCheck> {
  const { cfg, prev, obs, now } = input;
  const keyed: KeyedTable | undefined = obs.keyColumn
    ? { schemaName: cfg.schemaName, table: cfg.table, keyColumn: obs.keyColumn }
    : undefined;
  let reason = lookReason(cfg, prev, obs, input.accepted);
  if (!reason && prev) {
    const slice = planAudit(prev, now, input.scheduleMinutes, input.exactEveryMinutes);
    if (slice === 'whole') reason = { kind: 'audit' };
    else if (slice && keyed && prev.segments) {
      const part = prev.segments.slice(slice.from, slice.to);
      const reads = await readRanges(input.query, keyed, part, input.counted);
      const cmp = compareRanges(keyed.keyColumn, part, reads);
      if (cmp.changed.length > 0) reason = { kind: 'audit-found-change' };
      else {
        let state: TableState = {
          ...prev,
          audit: slice.completesPass
            ? { cycleStartedAt: now.toISOString() }
            : {
                nextKey: prev.segments[slice.to]![0],
                cycleStartedAt: prev.audit?.cycleStartedAt ?? prev.countedAt,
              },
        };
        if (slice.completesPass) {
          // End of a pass: the rows added above the watermark join the baseline.
          const above = prev.watermark === undefined ? undefined : prev.watermark + 1;
          const added = await buildKeyRanges(input.query, keyed, above, undefined);
          if (added.length > 0) {
            const segments = normalizeRanges([...prev.segments, ...added]);
            state = { ...state, segments, watermark: segments[segments.length - 1]![1] };
          }
        }
        const label =
          part.length === 0
            ? 'rows above the watermark'
            : rangeLabel(keyed.keyColumn, [part[0]![0], part[part.length - 1]![1], 1, '0']);
        return {
          ...verdict(input, state, { total: undefined, lost: 0, lostRanges: [], unverified: [] }, 'audit'),
          read: { kind: 'audit', text: label },
        };
      }
    }
  }
  if (!reason) {
    return verdict(input, prev!, { total: undefined, lost: 0, lostRanges: [], unverified: [] }, 'counters');
  }

  // The whole table, exactly.
  const compareWith = reason.kind === 'accepted' ? undefined : prev;
  const total = await exactCount(input.query, cfg.schemaName, cfg.table);
  let segments: Segment[] | undefined;
  let lost: number;
  let lostRanges: readonly string[] = [];
  let unverified: readonly string[];
  let keyColumn = keyed?.keyColumn;
  try {
    if (keyed && compareWith?.segments && compareWith.keyColumn === keyed.keyColumn) {
      const reads = await readRanges(input.query, keyed, compareWith.segments);
      const cmp = compareRanges(keyed.keyColumn, compareWith.segments, reads);
      ({ lost, lostRanges } = cmp);
      if (cmp.denseLost.length > 0 && cmp.denseLost.length <= 5) {
        // Which rows exactly: every key of a dense range existed, so the missing ones are the lost ones.
        const labels = [...cmp.lostRanges];
        for (const d of cmp.denseLost) {
          const s = compareWith.segments[d.segment]!;
          if (reads[d.segment]!.rows === 0) continue; // the whole range is gone: its label says it
          const runs = await missingKeys(input.query, keyed, s[0], s[1]);
          labels[d.label] = missingLabel(keyed.keyColumn, runs, s[2] - reads[d.segment]!.rows);
        }
        lostRanges = labels;
      }
      unverified = cmp.unverifiedRanges;
      const top = compareWith.segments[compareWith.segments.length - 1]?.[1];
      const inside = reads.reduce((n, r) => n + r.rows, 0);
      // Rows outside every range: above the last one (new), or in gaps and below (late commits, backfills).
      const above = await countKeyRange(
        input.query,
        keyed,
        top === undefined ? undefined : top + 1,
        undefined,
      );
      const elsewhere = total - inside - above;
      const added =
        above > 0
          ? await buildKeyRanges(input.query, keyed, top === undefined ? undefined : top + 1, undefined)
          : [];
      if (elsewhere === 0 && cmp.changed.length <= 16) {
        // Only the changed ranges and the rows above the watermark need reading again.
        const changed = new Set(cmp.changed);
        const kept = compareWith.segments.filter((_, i) => !changed.has(i));
        const rebuilt: Segment[] = [...added];
        for (const i of cmp.changed) {
          const s = compareWith.segments[i]!;
          rebuilt.push(...(await buildKeyRanges(input.query, keyed, s[0], s[1])));
        }
        segments = mergeBaseline(kept, rebuilt);
      } else {
        // Rows appeared in gaps or below the first range (late commits, backfills): read the ranges afresh.
        segments = normalizeRanges(await buildKeyRanges(input.query, keyed, undefined, undefined));
      }
    } else if (keyed) {
      segments = normalizeRanges(await buildKeyRanges(input.query, keyed, undefined, undefined));
      ({ lost, unverified } = byCount(compareWith, total, reason));
    } else {
      ({ lost, unverified } = byCount(compareWith, total, reason));
    }
  } catch (err) {
    if (!(err instanceof UnsafeKeyError)) throw err;
    keyColumn = undefined;
    segments = undefined;
    ({ lost, unverified } = byCount(compareWith, total, reason));
  }

  const openLoss: OpenLoss | undefined =
    lost > 0
      ? {
          rowsLost: (compareWith?.openLoss?.rowsLost ?? 0) + lost,
          since: compareWith?.openLoss?.since ?? now.toISOString(),
          detail: `${lost} row(s) lost since the exact look of ${compareWith?.countedAt}`,
          ranges: [...(compareWith?.openLoss?.ranges ?? []), ...lostRanges].slice(0, MAX_NOTED_RANGES),
        }
      : compareWith?.openLoss;
  const openUnverified: Unverified | undefined =
    unverified.length > 0
      ? {
          since: compareWith?.unverified?.since ?? now.toISOString(),
          detail:
            compareWith?.unverified?.detail ??
            unverifiedDetail(keyed !== undefined && keyColumn !== undefined, reason),
          ranges: [...(compareWith?.unverified?.ranges ?? []), ...unverified.filter((u) => u !== '*')].slice(
            0,
            MAX_NOTED_RANGES,
          ),
        }
      : compareWith?.unverified;
  const state: TableState = {
    key: input.key,
    oid: obs.oid,
    relfilenode: obs.relfilenode,
    count: total,
    countedAt: now.toISOString(),
    counters: obs.counters,
    ...(keyColumn && segments
      ? {
          keyColumn,
          segments,
          watermark: segments.length > 0 ? segments[segments.length - 1]![1] : compareWith?.watermark,
        }
      : {}),
    ...(compareWith?.fingerprint ? { fingerprint: compareWith.fingerprint } : {}),
    ...(openLoss ? { openLoss } : {}),
    ...(openUnverified ? { unverified: openUnverified } : {}),
    audit: { cycleStartedAt: now.toISOString() },
  };
  const baseline = !compareWith;
  return {
    ...verdict(input, state, { total, lost, lostRanges, unverified }, 'exact', baseline, reason),
    read: { kind: 'exact', text: reasonText(reason) },
  };
}

/** Without key ranges: a fall of the exact count is certain; a hidden delete is ruled out only by no suspicion. */
function byCount(
  prev: TableState | undefined,
  total: number,
  reason: LookReason,
): { lost: number; unverified: readonly string[] } {
  if (!prev) return { lost: 0, unverified: [] };
  const lost = Math.max(0, prev.count - total);
  return { lost, unverified: lost === 0 && SUSPICIOUS.has(reason.kind) ? ['*'] : [] };
}

function unverifiedDetail(keyed: boolean, reason: LookReason): string {
  return keyed
    ? 'rows were added inside key ranges that had gaps, where rows may also have gone: a loss there cannot be ruled out'
    : `${reasonText(reason)}, but the table has no usable key (a single-column integer primary key): a delete hidden by inserts cannot be ruled out`;
}

interface Seen {
  /** Exact count this run (undefined: not read whole). */
  readonly total?: number;
  readonly lost: number;
  readonly lostRanges: readonly string[];
  readonly unverified: readonly string[];
}

/** The rule results and report of a table from its new state and what this run saw. */
function verdict(
  input: TableCheckInput,
  state: TableState,
  seen: Seen,
  method: 'counters' | 'audit' | 'exact',
  baseline = false,
  reason?: LookReason,
): TableCheck {
  const { cfg, key, prev } = input;
  const results: RuleResult[] = [];
  const exact = seen.total !== undefined;
  const rowCount = exact
    ? seen.total!
    : state.count + Math.max(0, input.obs.counters.ins - state.counters.ins);
  if (cfg.minRows !== undefined) {
    const floorCount = exact ? seen.total! : state.count;
    results.push({
      target: key,
      rule: 'minRows',
      status: floorCount >= cfg.minRows ? 'ok' : 'violation',
      value: String(floorCount),
      threshold: `>= ${cfg.minRows}`,
      detail: exact ? 'exact count' : 'the last exact count (no delete counted since)',
    });
  }
  const open = state.openLoss;
  const unv = state.unverified;
  const lost = open?.rowsLost ?? 0;
  const how =
    seen.lost > 0
      ? `${seen.lostRanges.length > 0 ? seen.lostRanges.join('; ') : `${rowsText(seen.lost)} fewer than the last exact count ${prev?.count}`} (${reasonText(reason!)})`
      : open
        ? `${open.ranges.length > 0 ? open.ranges.join('; ') : open.detail}`
        : baseline
          ? `baseline taken: ${state.count} rows${state.keyColumn ? ` in ${state.segments?.length ?? 0} key ranges of ${state.keyColumn}` : ' (no usable key: only a fall of the count is provable)'}`
          : method === 'exact'
            ? `read exactly (${reasonText(reason!)}): every row of the last exact look is present`
            : method === 'audit'
              ? 'key ranges read by the rotating audit: all present'
              : 'nothing suspicious in the counters or the catalog';
  const detailOf = () => {
    const parts = [how];
    if (open) parts.push(`open since ${open.since}; ${acceptHint(key)}`);
    if (unv)
      parts.push(
        `could not verify since ${unv.since}: ${unv.detail}${unv.ranges.length > 0 ? ` (${unv.ranges.join('; ')})` : ''}; ${acceptHint(key)}`,
      );
    return parts.join('; ');
  };
  const quiet: RuleStatus = baseline ? 'baseline' : 'ok';
  const status: RuleStatus = lost > 0 ? 'violation' : unv ? 'error' : quiet;
  for (const [rule, noun] of [
    ['noDecrease', 'lost'],
    ['appendOnly', 'deleted'],
  ] as const) {
    if (!cfg[rule]) continue;
    results.push({
      target: key,
      rule,
      status,
      value: unv && lost === 0 ? 'could not verify' : `${rowsText(lost)} ${noun}`,
      threshold: rule === 'noDecrease' ? '0 rows lost' : '0 deletes or truncates',
      detail: detailOf(),
      ...(status === 'error' ? { failure: 'unverified' as const } : {}),
    });
  }
  if (!state.keyColumn && baseline) {
    results.push({
      target: key,
      rule: 'access',
      status: 'warning',
      value: 'no usable key',
      threshold: 'a single-column integer primary key',
      detail: `${key} has no single-column integer primary key: only a fall of its row count is provable; a delete hidden by inserts is reported as "could not verify"`,
    });
  }
  return {
    results,
    report: {
      rowCount,
      rowCountExact: exact,
      rowsLost: lost,
      unverified: unv ? 1 : 0,
      method,
      ...(reason ? { reason: reasonText(reason) } : {}),
      // An open "could not verify" is its own metric (Unverified), not a failure to run.
      failed: false,
    },
    state,
  };
}
