import { checksMaxAgeMinutes, judgeChecksSummary } from '../../../lambda/shared/checks-summary';

const NOW = Date.parse('2026-11-26T03:00:00.000Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

describe('checksMaxAgeMinutes', () => {
  it('allows three schedules, never less than 15 minutes', () => {
    expect(checksMaxAgeMinutes(1)).toBe(15);
    expect(checksMaxAgeMinutes(5)).toBe(15);
    expect(checksMaxAgeMinutes(60)).toBe(180);
  });
});

describe('judgeChecksSummary', () => {
  const maxAgeMs = 15 * 60_000;

  it('no verdict: not present', () => {
    expect(judgeChecksSummary(undefined, NOW, maxAgeMs)).toEqual({ present: false });
  });

  it('a clean, recent verdict opens the gate', () => {
    expect(judgeChecksSummary({ status: 'ok', checkedAt: at(1), problems: [] }, NOW, maxAgeMs)).toMatchObject(
      {
        present: true,
        clean: true,
        fresh: true,
        ageMs: 60_000,
      },
    );
  });

  it.each(['violation', 'error'] as const)('a %s verdict is not clean', (status) => {
    expect(judgeChecksSummary({ status, checkedAt: at(1), problems: ['x'] }, NOW, maxAgeMs)).toMatchObject({
      clean: false,
      fresh: true,
    });
  });

  it('an old verdict is not fresh, nor one whose time cannot be read', () => {
    expect(
      judgeChecksSummary({ status: 'ok', checkedAt: at(16), problems: [] }, NOW, maxAgeMs),
    ).toMatchObject({
      clean: true,
      fresh: false,
    });
    expect(
      judgeChecksSummary({ status: 'ok', checkedAt: 'yesterday', problems: [] }, NOW, maxAgeMs),
    ).toMatchObject({ fresh: false });
  });
});
