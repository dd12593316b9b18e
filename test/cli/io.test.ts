import { formatDurationMs, parseCliArgs, parseDuration, UsageError } from '../../cli/io';

describe('durations on the command line', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['0', 0],
    [' 15m ', 900_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text, '--x')).toBe(ms);
  });

  it.each([
    ['45', /expected a duration with its unit: 45s, 45m or 45h/],
    ['5 minutes', /expected a duration such as 90s, 5m or 1h30m/],
    ['m5', /expected a duration such as/],
    ['-5m', /not negative/],
  ])('%j is refused: %s', (text, message) => {
    expect(() => parseDuration(text, '--x')).toThrow(UsageError);
    expect(() => parseDuration(text, '--x')).toThrow(message);
  });

  it('checks bounds at parse time, naming them in the same syntax', () => {
    expect(() => parseDuration('48h', '--bake', { maxMs: 86_400_000 })).toThrow(
      '--bake: got "48h", expected a duration from 0s to 1d',
    );
    expect(() => parseDuration('30s', '--timeout', { minMs: 60_000 })).toThrow(
      '--timeout: got "30s", expected a duration from 1m',
    );
    expect(parseDuration('1d', '--bake', { maxMs: 86_400_000 })).toBe(86_400_000);
  });

  it('prints durations the way it parses them', () => {
    expect(formatDurationMs(5_400_000)).toBe('1h30m');
    expect(formatDurationMs(21_600_000)).toBe('6h');
    expect(formatDurationMs(0)).toBe('0s');
  });
});

describe('parseCliArgs', () => {
  const options = { green: { type: 'string' }, json: { type: 'boolean' } } as const;

  it('takes a negative number as the value of a string option (its own check answers it)', () => {
    expect(parseCliArgs(['--green', '-5'], options).values.green).toBe('-5');
  });

  it('still refuses a missing value and an unknown option', () => {
    expect(() => parseCliArgs(['--green'], options)).toThrow(UsageError);
    expect(() => parseCliArgs(['--green', '5', '-x'], options)).toThrow(/Unknown option/);
  });
});
