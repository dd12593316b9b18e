import type { ParityResult, ParitySample } from './result';

/** A named comparison and the difference budget it is judged against. */
export interface PairOutcome {
  readonly name: string;
  readonly maxDifferences: number;
  readonly result: ParityResult;
}

/** Within budget: compared, and no more differences than allowed. */
export function pairPasses(o: PairOutcome): boolean {
  return o.result.status !== 'error' && o.result.differences <= o.maxDifferences;
}

/** Exit status of a run: 0 every pair within budget, 1 a pair has too many differences, 2 could not compare. */
export function exitCodeOf(outcomes: readonly PairOutcome[]): 0 | 1 | 2 {
  if (outcomes.some((o) => o.result.status === 'error')) return 2;
  return outcomes.every(pairPasses) ? 0 : 1;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function statusLabel(o: PairOutcome): string {
  if (o.result.status === 'error') return 'ERROR';
  if (o.result.status === 'identical') return 'identical';
  return pairPasses(o) ? `within ${o.maxDifferences}` : 'DIFFERENT';
}

const show = (v: string | null) => (v === null ? 'NULL' : JSON.stringify(v));
const keyText = (s: ParitySample) =>
  Object.entries(s.key)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ');

function sampleLines(s: ParitySample): string[] {
  switch (s.kind) {
    case 'changed':
      return [
        `  changed     ${keyText(s)}`,
        ...(s.columns ?? []).map(
          (c) => `                ${c.column}: blue ${show(c.blue)}  green ${show(c.green)}`,
        ),
      ];
    case 'onlyInBlue':
    case 'onlyInGreen':
      return [`  ${s.kind === 'onlyInBlue' ? 'only blue ' : 'only green'}  ${keyText(s)}`];
    case 'duplicateKey':
      return [`  duplicate   ${keyText(s)} (${s.count} rows in ${s.side})`];
    case 'nullKey':
      return [`  null key    ${keyText(s)} (${s.side})`];
  }
}

/** The readable report: one summary table, then per pair the window, the columns that differ and the samples. */
export function formatParity(outcomes: readonly PairOutcome[]): string {
  const header = [
    'PAIR',
    'BLUE',
    'GREEN',
    'IDENTICAL',
    'ONLY BLUE',
    'ONLY GREEN',
    'CHANGED',
    'DUP KEYS B/G',
    'NULL KEYS B/G',
    'STATUS',
  ];
  const rows = outcomes.map((o) => {
    const r = o.result;
    return [
      o.name,
      fmt(r.rows.blue),
      fmt(r.rows.green),
      fmt(r.identical),
      fmt(r.onlyInBlue),
      fmt(r.onlyInGreen),
      fmt(r.changed),
      `${fmt(r.duplicateKeys.blue)}/${fmt(r.duplicateKeys.green)}`,
      `${fmt(r.nullKeys.blue)}/${fmt(r.nullKeys.green)}`,
      statusLabel(o),
    ];
  });
  const out = [table(header, rows), ''];
  for (const o of outcomes) {
    const r = o.result;
    out.push(`${o.name}: ${r.blue} (blue) vs ${r.green} (green), key ${r.key.join(', ')}`);
    if (r.failure) {
      out.push(`  could not compare (${r.failure.kind}): ${r.failure.message}`, '');
      continue;
    }
    if (r.excluded.length > 0) out.push(`  excluded: ${r.excluded.join(', ')}`);
    if (r.window) {
      out.push(
        `  window: ${r.window.column} from ${r.window.from} to ${r.window.to} (${r.window.hours} h; ${(r.window.share * 100).toFixed(1)}% compared; settling: ${r.window.settling.blue} blue, ${r.window.settling.green} green)`,
      );
    }
    const cols = Object.entries(r.changedByColumn).sort((a, b) => b[1] - a[1]);
    if (cols.length > 0) out.push(`  changed columns: ${cols.map(([c, n]) => `${c} ${fmt(n)}`).join(', ')}`);
    out.push(
      `  ${fmt(r.differences)} difference(s), ${fmt(o.maxDifferences)} allowed; ${r.algorithm}, ${r.bucketsDiffering} of ${r.bucketsCompared} buckets joined; ${(r.durationMs / 1000).toFixed(1)} s`,
    );
    for (const s of r.samples) out.push(...sampleLines(s));
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
