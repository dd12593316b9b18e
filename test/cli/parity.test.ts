import { main } from '../../cli/main';
import type { CliIo } from '../../cli/io';
import { parseIdentifiers, parseRelation } from '../../cli/commands/parity';
import { createTestDatabase, type TestDatabase } from '../support/pg';

/** `npm run parity` against the harness's PostgreSQL: ad-hoc mode and the dev config's pairs. */
let db: TestDatabase;

function fakeIo(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
    prompt: () => Promise.reject(new Error('no prompts in tests')),
    env,
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

const url = () => `${db.url}?sslmode=disable`;

beforeAll(async () => {
  db = await createTestDatabase('cli_parity');
  await db.query(`
    CREATE SCHEMA unified;
    CREATE TABLE public.games (game_id int PRIMARY KEY, season smallint, home_score smallint, tipoff_utc timestamptz,
                               created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
    INSERT INTO public.games (game_id, season, home_score, tipoff_utc)
      SELECT g, 2020, g % 130, now() - make_interval(hours => g) FROM generate_series(1, 500) g;
    CREATE TABLE unified.games (LIKE public.games INCLUDING ALL);
    INSERT INTO unified.games SELECT game_id, season, home_score, tipoff_utc, now() + interval '1 minute', now() FROM public.games;
    CREATE TABLE public.box_score_players (id bigint PRIMARY KEY, game_id int, player_id int, pts smallint,
                                           created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
    INSERT INTO public.box_score_players (id, game_id, player_id, pts) SELECT g, g / 10, g % 10, g % 30 FROM generate_series(1, 300) g;
    CREATE TABLE unified.box_score_players (LIKE public.box_score_players INCLUDING ALL);
    INSERT INTO unified.box_score_players SELECT id + 7000, game_id, player_id, pts FROM public.box_score_players;`);
});
afterAll(async () => {
  await db.drop();
});

const AD_HOC = [
  '--blue',
  'public.games',
  '--green',
  'unified.games',
  '--key',
  'game_id',
  '--exclude',
  'created_at,updated_at',
];

describe('npm run parity', () => {
  it('ad hoc: exits 0 on identical tables, with a summary table and progress on stderr', async () => {
    const run = fakeIo();
    expect(await main(['parity', '--database-url', url(), ...AD_HOC], run.io)).toBe(0);
    expect(run.out()).toMatch(/^PAIR\s+BLUE\s+GREEN\s+IDENTICAL\s+ONLY BLUE\s+ONLY GREEN\s+CHANGED/);
    expect(run.out()).toMatch(/public\.games\s+500\s+500\s+500\s+0\s+0\s+0\s+0\/0\s+0\/0\s+identical/);
    expect(run.err()).toMatch(/parity public\.games: comparing public\.games with unified\.games/);
    expect(run.err()).toMatch(/buckets differ/);
  });

  it('ad hoc --json: exits 1 on a difference, with the counts, duplicateKeys and the samples', async () => {
    await db.query('UPDATE unified.games SET home_score = 0 WHERE game_id = 42');
    try {
      const run = fakeIo();
      expect(await main(['parity', '--database-url', url(), ...AD_HOC, '--json'], run.io)).toBe(1);
      const json = JSON.parse(run.out());
      expect(json).toMatchObject({
        status: 'different',
        onlyInBlue: 0,
        onlyInGreen: 0,
        changed: 1,
        duplicateKeys: { blue: 0, green: 0 },
        samples: [
          {
            kind: 'changed',
            key: { game_id: '42' },
            columns: [{ column: 'home_score', blue: '42', green: '0' }],
          },
        ],
      });

      const text = fakeIo();
      expect(await main(['parity', '--database-url', url(), ...AD_HOC], text.io)).toBe(1);
      expect(text.out()).toMatch(/changed columns: home_score 1/);
      expect(text.out()).toMatch(/changed\s+game_id="42"\n\s+home_score: blue "42"\s+green "0"/);

      const allowed = fakeIo();
      expect(
        await main(['parity', '--database-url', url(), ...AD_HOC, '--max-differences', '1'], allowed.io),
      ).toBe(0);
    } finally {
      await db.query('UPDATE unified.games SET home_score = 42 WHERE game_id = 42');
    }
  });

  it('exits 2 when it cannot compare: a missing table, a key column that does not exist', async () => {
    const missing = fakeIo();
    expect(
      await main(
        [
          'parity',
          '--database-url',
          url(),
          '--blue',
          'public.games',
          '--green',
          'unified.nope',
          '--key',
          'game_id',
          '--json',
        ],
        missing.io,
      ),
    ).toBe(2);
    expect(JSON.parse(missing.out())).toMatchObject({ status: 'error', failure: { kind: 'missing-object' } });

    const key = fakeIo();
    expect(
      await main(['parity', '--database-url', url(), ...AD_HOC.slice(0, 4), '--key', 'gameid'], key.io),
    ).toBe(2);
    expect(key.out()).toMatch(/could not compare \(missing-object\): .*key column gameid does not exist/);
  });

  it('config mode: runs the environment pairs (business key, surrogate ids excluded) and --pair picks one', async () => {
    const all = fakeIo();
    expect(await main(['parity', '--env', 'dev', '--database-url', url(), '--json'], all.io)).toBe(0);
    const json = JSON.parse(all.out());
    expect(json).toMatchObject({ status: 'identical', env: 'dev' });
    expect(json.pairs.map((p: { name: string; status: string }) => [p.name, p.status])).toEqual([
      ['box-score-players', 'identical'],
      ['games', 'identical'],
    ]);

    const one = fakeIo();
    expect(await main(['parity', '--env', 'dev', '--pair', 'games', '--database-url', url()], one.io)).toBe(
      0,
    );
    expect(one.out()).not.toMatch(/box-score-players/);
  });

  it.each([
    [['--env', 'dev', '--blue', 'a.b'], /--env runs the configured pairs: drop --blue/],
    [['--blue', 'public.games'], /needs --green, --key/],
    [['--env', 'dev', '--pair', 'nope'], /--pair: got "nope", expected one of box-score-players, games/],
    [['--env', 'nowhere'], /nowhere/],
    [[...AD_HOC, '--window', 'tipoff_utc:0'], /--window: got "tipoff_utc:0", expected COLUMN:HOURS/],
    [[...AD_HOC, '--tolerance', 'home_score=-1'], /--tolerance: got "home_score=-1"/],
    [[...AD_HOC, '--algorithm', 'fast'], /--algorithm: got "fast", expected bucket or bisect/],
    [[...AD_HOC, '--connections', '3'], /--connections: got "3", expected 1 or 2/],
    [[...AD_HOC, '--blue', '"unterminated'], /--blue: got .*an unterminated quoted name/],
    [[...AD_HOC, '--database-url', 'mysql://x'], /--database-url: got scheme "mysql:"/],
  ])('rejects bad arguments %j with exit 2 before connecting', async (args, message) => {
    const run = fakeIo();
    expect(await main(['parity', ...args], run.io)).toBe(2);
    expect(run.err()).toMatch(message);
    expect(run.out()).toBe('');
  });

  it('parses identifiers as PostgreSQL does: bare names fold to lower case, quoted ones are literal', () => {
    expect(parseRelation('Public.Games', '--blue')).toEqual({ schemaName: 'public', table: 'games' });
    expect(parseRelation('games', '--blue')).toEqual({ schemaName: 'public', table: 'games' });
    expect(parseRelation('"we""ird; drop"."Box Scores"', '--blue')).toEqual({
      schemaName: 'we"ird; drop',
      table: 'Box Scores',
    });
    expect(parseIdentifiers('game_id, "Player Id"', ',', '--key')).toEqual(['game_id', 'Player Id']);
    expect(() => parseIdentifiers('a,,b', ',', '--key')).toThrow(/an empty name/);
    expect(() => parseRelation('a.b.c', '--blue')).toThrow(/expected SCHEMA\.TABLE/);
    expect(() => parseIdentifiers(`"${'x'.repeat(64)}"`, ',', '--key')).toThrow(/longer than 63 bytes/);
  });
});
