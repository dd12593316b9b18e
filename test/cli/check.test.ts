import * as fs from 'node:fs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../cli/main';
import type { CliIo } from '../../cli/io';
import { connectionFromArgs } from '../../cli/commands/check';
import { createTestDatabase, loadSeedscale, type TestDatabase } from '../support/pg';

/** `npm run check` against the seedscale database (SCALE=0.01) on the harness's PostgreSQL, dev config. */
let db: TestDatabase;
let dir: string;

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
  db = await createTestDatabase('cli_check');
  loadSeedscale(db, 0.01);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe('npm run check', () => {
  it('prints table, rule, value, threshold, status and exits 0 when all is well', async () => {
    const state = path.join(dir, 'ok.json');
    const first = fakeIo();
    expect(await main(['check', '--env', 'dev', '--database-url', url(), '--state', state], first.io)).toBe(
      0,
    );
    expect(first.out()).toMatch(/^TABLE\s+RULE\s+VALUE\s+THRESHOLD\s+STATUS/);
    expect(first.out()).toMatch(
      /public\.hoopr_play_by_play\s+appendOnly\s+0 rows deleted\s+0 deletes or truncates\s+baseline/,
    );
    expect(first.out()).toMatch(
      /public\.dims_metrics_snapshots\s+freshness\s+\S+\s+warn > 12h, error > 24h\s+ok/,
    );

    const second = fakeIo();
    expect(await main(['check', '--env', 'dev', '--database-url', url(), '--state', state], second.io)).toBe(
      0,
    );
    expect(second.out()).toMatch(
      /exact counts: none; nothing suspicious in the counters or the catalog of any table/,
    );
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).tables['public.games'].count).toBe(448);
  });

  it('exits 1 on a violation, names it, and keeps it until --accept', async () => {
    const state = path.join(dir, 'loss.json');
    const run = async (...extra: string[]) => {
      const f = fakeIo();
      const code = await main(
        ['check', '--env', 'dev', '--database-url', url(), '--state', state, ...extra],
        f.io,
      );
      return { code, out: f.out() };
    };
    expect((await run()).code).toBe(0);
    const writer = await db.connect();
    await writer.query(
      'DELETE FROM hoopr_play_by_play WHERE ctid = (SELECT min(ctid) FROM hoopr_play_by_play)',
    );
    await writer.query('SELECT pg_stat_force_next_flush()');
    await writer.end();
    const lossy = await run();
    expect(lossy.code).toBe(1);
    expect(lossy.out).toMatch(
      /public\.hoopr_play_by_play\s+noDecrease\s+1 row lost\s+0 rows lost\s+VIOLATION/,
    );
    expect(lossy.out).toContain(
      `if this change was meant, accept: npm run check -- --env dev --database-url ... --state ${state} --accept public.hoopr_play_by_play`,
    );
    expect((await run()).code).toBe(1);
    expect((await run('--accept', 'public.hoopr_play_by_play')).code).toBe(0);
  });

  it('a certain loss wins over what could not be checked: exit 1, not 2', async () => {
    const state = path.join(dir, 'loss-and-error.json');
    const argv = ['check', '--env', 'dev', '--database-url', url(), '--state', state];
    expect(await main(argv, fakeIo().io)).toBe(0);
    const writer = await db.connect();
    try {
      await writer.query('DELETE FROM play_by_play WHERE ctid = (SELECT min(ctid) FROM play_by_play)');
      await writer.query('SELECT pg_stat_force_next_flush()');
      await writer.query('ALTER TABLE dims_metrics_snapshots RENAME TO dims_metrics_snapshots_away');
      const f = fakeIo();
      expect(await main(argv, f.io)).toBe(1);
      expect(f.out()).toMatch(/public\.play_by_play\s+noDecrease\s+1 row lost\s+0 rows lost\s+VIOLATION/);
      expect(f.out()).toMatch(/public\.dims_metrics_snapshots\s+freshness\s+.*ERROR/);
      expect(f.out()).toMatch(/^VIOLATION \(and some checks could not run\): /m);
      const json = fakeIo();
      expect(await main([...argv, '--json'], json.io)).toBe(1);
      expect(JSON.parse(json.out())).toMatchObject({ verdict: 'violation', exitCode: 1 });
    } finally {
      await writer.query(
        'ALTER TABLE IF EXISTS dims_metrics_snapshots_away RENAME TO dims_metrics_snapshots',
      );
      await writer.end();
    }
  });

  it('a database that does not exist is "missing", not an authentication problem', async () => {
    const f = fakeIo();
    const code = await main(
      [
        'check',
        '--env',
        'dev',
        '--database-url',
        `${db.url.replace(/\/[^/]*$/, '/no_such_db')}?sslmode=disable`,
      ],
      f.io,
    );
    expect(code).toBe(2);
    expect(f.out()).toMatch(/ERROR could not check \(missing\): .*database "no_such_db" does not exist/);
    expect(f.out()).not.toMatch(/authentication|login refused/);
    expect(f.out()).toMatch(/^ERROR: 0 checks done, 1 failure in \d+ ms .*; nothing was checked$/m);
    expect(f.out()).not.toMatch(/nothing suspicious in the counters/);
    expect(f.err()).not.toMatch(/only took baselines/);
  });

  it('--json prints the whole report for machines', async () => {
    const f = fakeIo();
    expect(await main(['check', '--env', 'dev', '--database-url', url(), '--json'], f.io)).toBe(0);
    const report = JSON.parse(f.out());
    expect(report).toMatchObject({ env: 'dev', status: 'ok' });
    expect(report.tables.map((t: { key: string }) => t.key)).toEqual([
      'public.games',
      'public.play_by_play',
      'public.hoopr_play_by_play',
    ]);
  });

  it('reads PG* variables when no URL is given', async () => {
    const f = fakeIo({
      PGHOST: String(db.config.host),
      PGPORT: String(db.config.port),
      PGUSER: String(db.config.user),
      PGDATABASE: db.name,
      PGSSLMODE: 'disable',
    });
    expect(await main(['check', '--env', 'dev'], f.io)).toBe(0);
  });

  it('exits 2 when it could not check (nothing listens on the port)', async () => {
    const f = fakeIo();
    const code = await main(
      ['check', '--env', 'dev', '--database-url', 'postgres://postgres@127.0.0.1:1/nba?sslmode=disable'],
      f.io,
    );
    expect(code).toBe(2);
    expect(f.out()).toMatch(/ERROR could not check \(cannot connect\)/);
    expect(f.out()).toMatch(/nothing was checked/);
  });

  it('exits 2 when TLS is required by default and the server has none', async () => {
    const f = fakeIo();
    expect(await main(['check', '--env', 'dev', '--database-url', db.url], f.io)).toBe(2);
    expect(f.out()).toMatch(/does not support SSL/);
    expect(f.out()).toMatch(
      /^hint: the connection used the default sslmode=verify-full .*needs \?sslmode=disable/m,
    );
  });

  it('gives no sslmode hint when the sslmode was chosen', async () => {
    const f = fakeIo({ PGSSLMODE: 'require' });
    expect(await main(['check', '--env', 'dev', '--database-url', db.url], f.io)).toBe(2);
    expect(f.out()).not.toMatch(/hint: the connection used the default sslmode/);
  });
});

describe('bad arguments exit 2 before any connection', () => {
  it.each([
    [['check'], /--env is required/],
    [
      ['check', '--env', 'qa', '--database-url', 'postgres://h/db'],
      /env: got "qa", expected one of dev, staging, prod/,
    ],
    [['check', '--env', 'dev'], /no database given/],
    [['check', '--env', 'dev', '--database-url', 'mysql://h/db'], /expected postgres:\/\//],
    [
      ['check', '--env', 'dev', '--database-url', 'postgres://h/db?sslmode=prefer'],
      /sslmode: got "prefer", expected verify-full, require or disable/,
    ],
    [
      ['check', '--env', 'dev', '--database-url', 'postgres://h:99999/db'],
      /port|Invalid URL|expected postgres/,
    ],
    [
      ['check', '--env', 'dev', '--database-url', 'postgres://h/db', '--accept', 'public.games'],
      /--accept needs --state/,
    ],
    [
      [
        'check',
        '--env',
        'dev',
        '--database-url',
        'postgres://h/db',
        '--state',
        '/tmp/x.json',
        '--accept',
        'public.nope',
      ],
      /expected one of the checked tables/,
    ],
    [
      ['check', '--env', 'dev', '--database-url', 'postgres://h/db', '--statement-timeout', 'soon'],
      /expected a duration/,
    ],
    [['check', '--env', 'dev', '--bogus'], /Unknown option '--bogus'/],
    [['check', '--env', 'prod', '--deployed'], /--deployed goes with --accept SCHEMA.TABLE only/],
    [
      ['check', '--env', 'prod', '--deployed', '--accept', 'public.games', '--state', 'x.json'],
      /--deployed goes with --accept/,
    ],
    [
      ['check', '--env', 'prod', '--deployed', '--accept', 'public.nope'],
      /expected one of the checked tables/,
    ],
  ])('%j', async (argv, message) => {
    const f = fakeIo();
    expect(await main(argv, f.io)).toBe(2);
    expect(f.err()).toMatch(message);
    expect(f.err()).toMatch(/Usage: npm run check/);
  });

  it('connection settings: URL parts override PG* variables, defaults fill the rest', () => {
    const s = connectionFromArgs(
      'postgres://reader:p%40ss@db.example.com/other?sslmode=require',
      { PGPORT: '6543', PGUSER: 'ignored' },
      { database: 'nba', statementTimeoutMs: 1000, lockTimeoutMs: 500 },
    );
    expect(s).toMatchObject({
      host: 'db.example.com',
      port: 6543,
      user: 'reader',
      password: 'p@ss',
      database: 'other',
      sslMode: 'require',
    });
    const d = connectionFromArgs(
      undefined,
      { PGHOST: 'h' },
      { database: 'nba', statementTimeoutMs: 1, lockTimeoutMs: 1 },
    );
    expect(d).toMatchObject({ host: 'h', port: 5432, database: 'nba', sslMode: 'verify-full' });
  });
});

describe('--deployed --accept', () => {
  const ssm = mockClient(SSMClient);
  const ddb = mockClient(DynamoDBDocumentClient);
  beforeEach(() => {
    ssm.reset();
    ddb.reset();
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [{ Name: '/pipeline-guardrails/prod/state/table-name', Value: 'prod-state' }],
    });
  });

  it("clears the scheduled checker's baseline of each accepted table, without a database", async () => {
    ddb
      .on(DeleteCommand, { Key: { pk: 'checks#table#public.games', sk: 'baseline' } })
      .resolves({
        Attributes: { count: 44827, openLoss: { rowsLost: 1, since: '2026-11-26T01:00:00.000Z' } },
      })
      .on(DeleteCommand, { Key: { pk: 'checks#table#public.play_by_play', sk: 'baseline' } })
      .resolves({});
    const f = fakeIo();
    const code = await main(
      ['check', '--env', 'prod', '--deployed', '--accept', 'public.games', '--accept', 'public.play_by_play'],
      f.io,
    );
    expect(code).toBe(0);
    expect(ddb).toHaveReceivedCommandTimes(DeleteCommand, 2);
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { TableName: 'prod-state' });
    expect(f.out()).toMatch(
      /public\.games: baseline cleared \(was 44827 rows, 1 row lost since 2026-11-26T01:00:00.000Z\)/,
    );
    expect(f.out()).toMatch(/public\.play_by_play: no baseline stored/);
  });
});
