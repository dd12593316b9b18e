import type { ChecksSummary } from '../shared/checks-summary';
import type { RuleResult, RunReport } from './results';

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

/** The readable table the CLI prints: table, rule, value, threshold, status; details of what is not ok. */
export function formatReport(report: RunReport): string {
  const header = ['TABLE', 'RULE', 'VALUE', 'THRESHOLD', 'STATUS'];
  const rows = report.results.map((r) => [r.target, r.rule, r.value, r.threshold, STATUS_LABEL[r.status]]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  const notes = report.results.filter((r) => r.status !== 'ok' && r.status !== 'baseline');
  const baselines = new Set(report.results.filter((r) => r.status === 'baseline').map((r) => r.target));
  if (baselines.size > 0) {
    out.push('', `baseline taken for ${[...baselines].join(', ')}: the next run compares with it`);
  }
  if (notes.length > 0) {
    out.push('', ...notes.map((r) => `${STATUS_LABEL[r.status]} ${r.target} ${r.rule}: ${r.detail}`));
  }
  for (const f of report.failures) out.push(`ERROR could not check (${f.kind}): ${f.message}`);
  const counted = report.exactCounts.length
    ? `exact counts: ${report.exactCounts.map((c) => `${c.key} (${c.reason})`).join(', ')}`
    : 'exact counts: none (nothing suspicious in the counters or the catalog)';
  const audit = report.audited?.length
    ? `; rotating audit read ${report.audited.map((a) => `${a.key} ${a.range}`).join(', ')}`
    : '';
  out.push(
    '',
    `${report.status.toUpperCase()}: ${report.results.length} checks in ${Math.round(report.durationMs)} ms (database ${Math.round(report.databaseMs)} ms); ${counted}${audit}`,
  );
  return `${out.join('\n')}\n`;
}
