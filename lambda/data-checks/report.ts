import type { ChecksSummary } from '../shared/checks-summary';
import type { RuleName, RuleResult, RunReport } from './results';
import type { FailureKind } from './connection';

/** One line per violated rule or failed check, for the summary the traffic shift reads. */
export function problemsOf(report: RunReport): string[] {
  const lines = report.failures.map((f) => `could not check (${f.kind}): ${f.message}`);
  for (const r of report.results) {
    if (r.status === 'violation')
      lines.push(`${r.target}: ${r.rule} violated: ${r.value} (expected ${r.threshold}); ${r.detail}`);
    if (r.status === 'error')
      lines.push(`${r.target}: ${r.rule} could not be checked (${r.failure ?? 'error'}): ${r.detail}`);
  }
  return lines;
}

export function summaryOf(report: RunReport): ChecksSummary {
  return {
    status: report.status,
    checkedAt: report.finishedAt,
    problems: problemsOf(report),
    durationMs: Math.round(report.durationMs),
  };
}

/** The run's one structured log line (fields beside the logger's timestamp/level/message). */
export function logFieldsOf(report: RunReport): Record<string, unknown> {
  return {
    status: report.status,
    durationMs: Math.round(report.durationMs),
    databaseMs: Math.round(report.databaseMs),
    exactCounts: report.exactCounts,
    audited: report.audited,
    failures: report.failures,
    server: report.server,
    results: report.results.map((r) => ({
      target: r.target,
      rule: r.rule,
      status: r.status,
      value: r.value,
      threshold: r.threshold,
      ...(r.status === 'ok' ? {} : { detail: r.detail }),
    })),
  };
}

const STATUS_LABEL: Record<RuleResult['status'], string> = {
  ok: 'ok',
  baseline: 'baseline',
  warning: 'WARNING',
  violation: 'VIOLATION',
  error: 'ERROR',
};

/** Why a run could not look, in words (the kind itself is what metrics and JSON carry). */
export const FAILURE_LABEL: Record<FailureKind, string> = {
  unreachable: 'cannot connect',
  authentication: 'login refused',
  timeout: 'timed out',
  'permission-denied': 'permission denied',
  'missing-object': 'missing',
  'row-security': 'rows hidden by row security',
  unverified: 'could not verify',
  replica: 'a replica',
  state: 'baseline store',
  error: 'error',
};

/** Rules whose violation an operator may accept (a loss or a schema change that was meant). */
const ACCEPTABLE: ReadonlySet<RuleName> = new Set<RuleName>(['noDecrease', 'appendOnly', 'schema']);

/**
 * The run's verdict for people and exit codes: a certain violation (rows lost, a schema change) is known
 * whatever else could not be checked, so it wins over "could not check". `report.status` (the metric and the
 * summary the shift reads) is the checker's; both block a shift.
 */
export type Verdict = 'ok' | 'violation' | 'error';

export function verdictOf(report: RunReport): Verdict {
  if (report.results.some((r) => r.status === 'violation')) return 'violation';
  if (report.status !== 'ok' || report.failures.length > 0) return 'error';
  return 'ok';
}

/** `npm run check`'s exit code: 0 ok, 1 violation (even with errors beside it), 2 could not check. */
export function exitCodeOf(report: RunReport): 0 | 1 | 2 {
  const v = verdictOf(report);
  return v === 'ok' ? 0 : v === 'violation' ? 1 : 2;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function provedText(proved: number, tables: number, report: RunReport): string[] {
  if (proved === 0) return [];
  if (proved === tables && report.exactCounts.length === 0)
    return ['nothing suspicious in the counters or the catalog of any table'];
  return [`nothing suspicious in the counters or the catalog of ${proved} of ${plural(tables, 'table')}`];
}

export interface FormatOptions {
  /** The command that accepts the listed tables' violations, in the syntax of the tool printing the report. */
  readonly acceptCommand?: (keys: readonly string[]) => string;
  /** Extra lines after the details (hints from the caller, e.g. about sslmode). */
  readonly hints?: readonly string[];
}

/** The readable table the CLI prints: table, rule, value, threshold, status; details of what is not ok. */
export function formatReport(report: RunReport, options: FormatOptions = {}): string {
  const header = ['TABLE', 'RULE', 'VALUE', 'THRESHOLD', 'STATUS'];
  const rows = report.results.map((r) => [r.target, r.rule, r.value, r.threshold, STATUS_LABEL[r.status]]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = rows.length > 0 ? [line(header), ...rows.map(line)] : [];
  const baselines = new Set(report.results.filter((r) => r.status === 'baseline').map((r) => r.target));
  if (baselines.size > 0) {
    out.push('', `baseline taken for ${[...baselines].join(', ')}: the next run compares with it`);
  }
  // One line per (status, table, detail): a missing table is one line, not one per rule it has.
  const notes = new Map<
    string,
    { status: RuleResult['status']; target: string; rules: string[]; detail: string }
  >();
  for (const r of report.results) {
    if (r.status === 'ok' || r.status === 'baseline') continue;
    const key = JSON.stringify([r.status, r.target, r.detail]);
    const note = notes.get(key) ?? { status: r.status, target: r.target, rules: [], detail: r.detail };
    note.rules.push(r.rule);
    notes.set(key, note);
  }
  const details = [...notes.values()].map(
    (n) => `${STATUS_LABEL[n.status]} ${n.target} ${n.rules.join(', ')}: ${n.detail}`,
  );
  for (const f of report.failures)
    details.push(`ERROR could not check (${FAILURE_LABEL[f.kind]}): ${f.message}`);
  if (details.length > 0) out.push(...(out.length > 0 ? [''] : []), ...details);

  const acceptable = [
    ...new Set(
      report.results.filter((r) => r.status === 'violation' && ACCEPTABLE.has(r.rule)).map((r) => r.target),
    ),
  ];
  const hints = [...(options.hints ?? [])];
  if (acceptable.length > 0 && options.acceptCommand) {
    hints.push(
      `if ${acceptable.length === 1 ? 'this change was' : 'these changes were'} meant, accept: ${options.acceptCommand(acceptable)}`,
    );
  }
  if (hints.length > 0) out.push('', ...hints);

  // The tables whose count rules were judged without an exact read (the rotating audit reads each in time).
  const judged = (r: RuleResult) => r.status !== 'error';
  const counted = new Set(report.exactCounts.map((c) => c.key));
  const countRules = report.results.filter((r) => r.rule === 'noDecrease' || r.rule === 'appendOnly');
  const proved = new Set(countRules.filter((r) => judged(r) && !counted.has(r.target)).map((r) => r.target));
  const checked = report.results.filter(judged).length;
  const unchecked = report.results.length - checked;
  const how =
    checked === 0
      ? 'nothing was checked'
      : [
          report.exactCounts.length > 0
            ? `exact counts: ${report.exactCounts.map((c) => `${c.key} (${c.reason})`).join(', ')}`
            : 'exact counts: none',
        ]
          .concat(
            report.audited?.length
              ? [`rotating audit read ${report.audited.map((a) => `${a.key} ${a.range}`).join(', ')}`]
              : [],
          )
          .concat(provedText(proved.size, new Set(countRules.map((r) => r.target)).size, report))
          .join('; ');
  const verdict = verdictOf(report);
  const counts = [
    `${plural(checked, 'check')} done`,
    unchecked > 0 ? `${unchecked} could not run` : '',
    report.failures.length > 0 ? plural(report.failures.length, 'failure') : '',
  ]
    .filter(Boolean)
    .join(', ');
  out.push(
    '',
    `${verdict.toUpperCase()}${verdict === 'violation' && (unchecked > 0 || report.failures.length > 0) ? ' (and some checks could not run)' : ''}: ${counts} in ${Math.round(report.durationMs)} ms (database ${Math.round(report.databaseMs)} ms); ${how}`,
  );
  return `${out.join('\n')}\n`;
}
