import { ConfigError, rawConfig, validateConfig } from '../../../lib/config';
import { parityMaxAgeMinutes } from '../../../lib/config/sections/parity';
import { cloneRaw } from '../../support/app';

/** Each rule of the `parity` section: a broken config with its message, and a fixed twin that passes. */
interface Case {
  readonly name: string;
  readonly broken: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly fixed: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly message: RegExp;
}

const CASES: Case[] = [
  {
    name: 'hostile green table',
    broken: (c) => (c.parity[0].green.table = 'x"; DROP TABLE games; --'),
    fixed: (c) => (c.parity[0].green.table = 'box_score_players'),
    message:
      /parity\[0\]\.green\.table: got "x\\"; DROP TABLE games; --", expected a lower-case PostgreSQL identifier/,
  },
  {
    name: 'pair name not kebab-case',
    broken: (c) => (c.parity[0].name = 'Box Scores'),
    fixed: (c) => (c.parity[0].name = 'box-scores'),
    message: /parity\[0\]\.name: got "Box Scores", expected a kebab-case name/,
  },
  {
    name: 'pair name used twice',
    broken: (c) => (c.parity[1].name = c.parity[0].name),
    fixed: (c) => (c.parity[1].name = 'games-2'),
    message: /parity\[1\]\.name: got "box-score-players", expected a name not used by another pair/,
  },
  {
    name: 'no key column',
    broken: (c) => (c.parity[0].key = []),
    fixed: (c) => (c.parity[0].key = ['game_id', 'player_id']),
    message: /parity\[0\]\.key: .*expected at least one key column/,
  },
  {
    name: 'a key column excluded',
    broken: (c) => c.parity[0].exclude.push('game_id'),
    fixed: (c) => c.parity[0].exclude.push('comment'),
    message: /parity\[0\]\.exclude\[3\]: got "game_id", expected a column that is not a key column/,
  },
  {
    name: 'blue compared with itself',
    broken: (c) => (c.parity[0].green = { table: 'box_score_players' }),
    fixed: (c) => (c.parity[0].green = { schemaName: 'unified', table: 'box_score_players' }),
    message: /parity\[0\]\.green\.table: got "box_score_players", expected a relation other than blue/,
  },
  {
    name: 'negative maxDifferences',
    broken: (c) => (c.parity[0].maxDifferences = -1),
    fixed: (c) => (c.parity[0].maxDifferences = 3),
    message: /parity\[0\]\.maxDifferences: got -1, expected an integer >= 0 \(0 means a 100% match\)/,
  },
  {
    name: 'window of zero hours',
    broken: (c) => (c.parity[1].window.hours = 0),
    fixed: (c) => (c.parity[1].window.hours = 2),
    message: /parity\[1\]\.window\.hours: got 0, expected from 1 to 720 hours/,
  },
  {
    name: 'negative tolerance',
    broken: (c) => (c.parity[0].tolerance = { fg_pct: -0.1 }),
    fixed: (c) => (c.parity[0].tolerance = { fg_pct: 0.001 }),
    message: /parity\[0\]\.tolerance\.fg_pct: got -0\.1, expected a number >= 0/,
  },
  {
    name: 'tolerance on a key column',
    broken: (c) => (c.parity[0].tolerance = { game_id: 1 }),
    fixed: (c) => (c.parity[0].tolerance = { pts: 1 }),
    message: /parity\[0\]\.tolerance\.game_id: got "game_id", expected a compared column/,
  },
  {
    name: 'schedule too short for a 15-minute run',
    broken: (c) => (c.parity[0].scheduleMinutes = 5),
    fixed: (c) => (c.parity[0].scheduleMinutes = 15),
    message: /parity\[0\]\.scheduleMinutes: got 5, expected from 15 to 1440 minutes/,
  },
  {
    name: 'statement timeout that does not fit the function timeout',
    broken: (c) => (c.parity[0].statementTimeoutSeconds = 600),
    fixed: (c) => (c.parity[0].statementTimeoutSeconds = 280),
    message: /parity\[0\]\.statementTimeoutSeconds: got 600, expected from 10 to 280 seconds/,
  },
  {
    name: 'bisect with a composite key',
    broken: (c) => (c.parity[0].algorithm = 'bisect'),
    fixed: (c) => (c.parity[1].algorithm = 'bisect'),
    message: /parity\[0\]\.algorithm: got "bisect", expected bucket when the key has several columns/,
  },
  {
    name: 'unknown severity',
    broken: (c) => (c.parity[0].severity = 'page'),
    fixed: (c) => (c.parity[0].severity = 'warning'),
    message: /parity\[0\]\.severity: got "page", expected critical or warning/,
  },
];

describe('parity config validation (prod)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: rejected with a message, fixed twin accepted',
    (_n, c) => {
      const broken = cloneRaw(rawConfig('prod'));
      c.broken(broken);
      expect(() => validateConfig('prod', broken)).toThrow(ConfigError);
      expect(() => validateConfig('prod', broken)).toThrow(c.message);

      const fixed = cloneRaw(rawConfig('prod'));
      c.fixed(fixed);
      expect(() => validateConfig('prod', fixed)).not.toThrow();
    },
  );

  it('fills the defaults and derives the maximum age the gates accept', () => {
    const raw = cloneRaw(rawConfig('prod'));
    delete raw.parity![0]!.maxDifferences;
    const [players, games] = validateConfig('prod', raw).parity;
    expect(players).toMatchObject({
      maxDifferences: 0,
      statementTimeoutSeconds: 240,
      algorithm: 'bucket',
      tolerance: {},
    });
    expect(games!.window).toEqual({ column: 'tipoff_utc', hours: 24, settleMinutes: 10 });
    expect(parityMaxAgeMinutes(players!)).toBe(120);
    expect(parityMaxAgeMinutes({ scheduleMinutes: 15 })).toBe(30);
    expect(parityMaxAgeMinutes({ scheduleMinutes: 60, maxAgeMinutes: 45 })).toBe(45);
  });
});
