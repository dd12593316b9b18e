import type { RuleResult, RunReport } from '../../../lambda/data-checks/checker';
import { exitCodeOf, formatReport, verdictOf } from '../../../lambda/data-checks/report';

const rule = (
  target: string,
  r: RuleResult['rule'],
  status: RuleResult['status'],
  detail = 'd',
): RuleResult => ({
  target,
  rule: r,
  status,
  value: '-',
  threshold: '-',
  detail,
});

function report(over: Partial<RunReport>): RunReport {
  return {
    status: 'ok',
    startedAt: '2026-12-01T00:00:00.000Z',
    finishedAt: '2026-12-01T00:00:01.000Z',
    durationMs: 12,
    databaseMs: 10,
    results: [],
    tables: [],
    freshness: [],
    custom: [],
    exactCounts: [],
    failures: [],
    ...over,
  };
}

describe('check report verdict and exit code', () => {
  it.each([
    ['all ok', report({ results: [rule('public.a', 'noDecrease', 'ok')] }), 'ok', 0],
    ['a warning only', report({ results: [rule('public.a', 'freshness', 'warning')] }), 'ok', 0],
    [
      'a violation',
      report({ status: 'violation', results: [rule('public.a', 'noDecrease', 'violation')] }),
      'violation',
      1,
    ],
    [
      'a violation and an error: the certain loss wins',
      report({
        status: 'error',
        results: [rule('public.a', 'noDecrease', 'violation'), rule('public.b', 'schema', 'error')],
      }),
      'violation',
      1,
    ],
    [
      'a violation and a connection-level failure',
      report({
        status: 'error',
        results: [rule('public.a', 'noDecrease', 'violation')],
        failures: [{ kind: 'timeout', message: 'custom check timed out' }],
      }),
      'violation',
      1,
    ],
    [
      'an error only',
      report({ status: 'error', results: [rule('public.a', 'schema', 'error')] }),
      'error',
      2,
    ],
    [
      'nothing reachable',
      report({ status: 'error', failures: [{ kind: 'unreachable', message: 'x' }] }),
      'error',
      2,
    ],
  ] as const)('%s', (_what, r, verdict, code) => {
    expect(verdictOf(r)).toBe(verdict);
    expect(exitCodeOf(r)).toBe(code);
  });
});

describe('check report text', () => {
  it('with nothing checked says so, and claims nothing about statistics counters', () => {
    const text = formatReport(
      report({ status: 'error', failures: [{ kind: 'unreachable', message: 'connect ECONNREFUSED' }] }),
    );
    expect(text).toMatch(/^ERROR could not check \(cannot connect\): connect ECONNREFUSED$/m);
    expect(text).toMatch(
      /^ERROR: 0 checks done, 1 failure in 12 ms \(database 10 ms\); nothing was checked$/m,
    );
    expect(text).not.toMatch(/proved/);
    expect(text).not.toMatch(/^TABLE/m);
  });

  it('reports a missing table once, naming the rules it stopped', () => {
    const missing = 'table public.games does not exist (or is not a table)';
    const text = formatReport(
      report({
        status: 'error',
        results: (['noDecrease', 'appendOnly', 'schema'] as const).map((r) =>
          rule('public.games', r, 'error', missing),
        ),
      }),
    );
    expect(text.match(/does not exist/g)).toHaveLength(1);
    expect(text).toContain(`ERROR public.games noDecrease, appendOnly, schema: ${missing}`);
    expect(text).toMatch(/ERROR: 0 checks done, 3 could not run .*; nothing was checked/);
  });

  it('credits the statistics counters only with the tables they proved', () => {
    const text = formatReport(
      report({
        status: 'error',
        results: [
          rule('public.a', 'noDecrease', 'ok'),
          rule('public.b', 'noDecrease', 'ok'),
          rule('public.c', 'noDecrease', 'error'),
        ],
        exactCounts: [{ key: 'public.b', reason: 'counters reset' }],
      }),
    );
    expect(text).toMatch(
      /exact counts: public\.b \(counters reset\); nothing suspicious in the counters or the catalog of 1 of 3 tables$/m,
    );
  });

  it('says how to accept a loss in the syntax of the caller, and lists the table once', () => {
    const text = formatReport(
      report({
        status: 'violation',
        results: [rule('public.a', 'noDecrease', 'violation'), rule('public.a', 'appendOnly', 'violation')],
      }),
      {
        acceptCommand: (keys) =>
          `npm run check -- --env prod --state s.json ${keys.map((k) => `--accept ${k}`).join(' ')}`,
      },
    );
    expect(text).toContain(
      'if this change was meant, accept: npm run check -- --env prod --state s.json --accept public.a\n',
    );
    expect(text).toMatch(/^VIOLATION: 2 checks done in/m);
  });

  it('a freshness violation is not offered for acceptance (only losses and schema changes are)', () => {
    const text = formatReport(
      report({ status: 'violation', results: [rule('public.a', 'freshness', 'violation')] }),
      {
        acceptCommand: () => 'ACCEPT',
      },
    );
    expect(text).not.toContain('ACCEPT');
  });
});
