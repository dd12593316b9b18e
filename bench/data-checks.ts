/**
 * `npm run bench -- data-checks [--scale=1] [--iterations=5]`
 *
 * On the production-shaped seedscale database (../shared/seedscale; SCALE=1 is about 20 million rows in
 * 40 tables, about 5 GB, and takes about 2 minutes to build on 2 cores; it is built once and reused while
 * its exact counts still match), measures in one run, with prod's schedule (1 min) and audit (60 min):
 *   1. the database time of the naive sweep (SELECT count(*) of all 40 tables, one after another),
 *   2. the checker over one whole audit pass (61 runs, simulated clock): the steady-state run (median), the
 *      amortized cost including the rotating audit (target <= 5% of naive), the largest run (<= 25%),
 *   3. the time and database time to confirm a single-row DELETE in hoopr_play_by_play (13M rows) while
 *      another session inserts about 50 rows a second, and the worst-case detection time per class,
 * and shows one-run detection of a TRUNCATE of a small table (shot_zones) and a dropped column
 * (awards.created_at). Every fault is undone afterwards (the row re-inserted, the inserted rows deleted, the
 * rows re-loaded, the column re-added with its values), so the database stays reusable.
 *
 * Variables: SCALE, SEEDSCALE_BASE (default /tmp/pipeline-guardrails-bench), SEEDSCALE_PORT (55442),
 * SEEDSCALE_DIR (default ../shared/seedscale beside the repository), PGBIN.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { checksSchema } from '../lib/config/sections/checks';
import type { ChecksConfig } from '../lib/config/schema';
import { runChecks, type RunReport } from '../lambda/data-checks/checker';
import { checkDatabase } from '../lambda/data-checks/run';
import { MemoryStateStore } from '../lambda/data-checks/state-store';
import type { Benchmark } from './index';

/** The checker's amortized cost (audit included) must be at most this fraction of the naive sweep. */
const TARGET_FRACTION = 0.05;
/** The largest single run (one carrying an audit slice) must be at most this fraction. */
const LARGEST_FRACTION = 0.25;

/** Worst-case time from a fault to the run that reports it, per class, for this config. */
export function detectionBounds(plan: ChecksConfig): [string, string][] {
  const s = plan.scheduleMinutes;
  const e = plan.exactEveryMinutes;
  return [
    ['committed DELETE, writer commits and goes idle (statistics flushed within ~1-10 s)', `${s} min + 10 s`],
    [
      'committed DELETE whose statistics never flush in time (a busy session, a procedure still running)',
      `${e + s} min (rotating audit)`,
    ],
    ['TRUNCATE, VACUUM FULL/CLUSTER rewrite, table dropped and re-created', `${s} min (catalog)`],
    ['statistics reset of a checked table (pg_stat_reset, crash restart)', `${s} min`],
    ['schema change (column dropped, re-added, renamed, retyped; primary key)', `${s} min`],
    ['row-level security hiding rows from the checker', `${s} min (could not check)`],
  ];
}

const CRITICAL_FLOORS: Record<string, number> = {
  games: 44_828,
  play_by_play: 6_781_155,
  hoopr_play_by_play: 13_074_829,
  box_score_players: 408_833,
  box_score_teams: 15_900,
};

function flag(flags: string[], name: string): string | undefined {
  const hit = flags.find((f) => f.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

function seedscaleDir(): string {
  const dir = process.env.SEEDSCALE_DIR ?? path.join(__dirname, '..', '..', 'shared', 'seedscale');
  if (!fs.existsSync(path.join(dir, 'make_seedscale.sh'))) {
    throw new Error(
      `seedscale not found at ${dir}: set SEEDSCALE_DIR to the folder holding make_seedscale.sh`,
    );
  }
  return dir;
}

function readExpected(file: string): Map<string, number> {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return new Map(
    lines.map((l) => {
      const [t, n] = l.split(',');
      return [t!, Number(n)];
    }),
  );
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function naiveSweep(
  client: Client,
  tables: string[],
): Promise<{ ms: number; counts: Map<string, number> }> {
  const counts = new Map<string, number>();
  let total = 0n;
  for (const t of tables) {
    const t0 = process.hrtime.bigint();
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`);
    total += process.hrtime.bigint() - t0;
    counts.set(t, Number(r.rows[0]!.n));
  }
  return { ms: ms(total), counts };
}

const bench: Benchmark = {
  async run(flags) {
    const scale = flag(flags, 'scale') ?? process.env.SCALE ?? '1';
    if (!/^\d+(\.\d+)?$/.test(scale) || Number(scale) <= 0)
      throw new Error(`--scale: got ${scale}, expected a positive number`);
    const iterations = Number(flag(flags, 'iterations') ?? '5');
    const base = process.env.SEEDSCALE_BASE ?? '/tmp/pipeline-guardrails-bench';
    const port = process.env.SEEDSCALE_PORT ?? '55442';
    const dbName = `nba_s${scale.replace('.', '_')}`;
    const dir = seedscaleDir();
    const env = {
      ...process.env,
      BASE: base,
      PGPORT: port,
      SCALE: scale,
      DBNAME: dbName,
      PGHOST: base,
      PGUSER: 'postgres',
    };

    console.log(`  seedscale: SCALE=${scale}, database ${dbName}, cluster ${base} on 127.0.0.1:${port}`);
    execFileSync('bash', [path.join(dir, 'start.sh')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const expectedFile = path.join(base, `expected_counts_${dbName}.csv`);

    const connectTo = async (database: string) => {
      const c = new Client({
        host: '127.0.0.1',
        port: Number(port),
        user: 'postgres',
        database,
        password: '',
      });
      await c.connect();
      return c;
    };
    const admin = await connectTo('postgres');
    const exists =
      (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount === 1;
    await admin.end();

    let client: Client | undefined;
    let warm: Awaited<ReturnType<typeof naiveSweep>> | undefined;
    if (exists && fs.existsSync(expectedFile)) {
      client = await connectTo(dbName);
      const expected = readExpected(expectedFile);
      warm = await naiveSweep(client, [...expected.keys()]);
      const mismatched = [...expected].filter(([t, n]) => warm!.counts.get(t) !== n);
      if (mismatched.length > 0) {
        console.log(
          `  counts differ from ${expectedFile} (${mismatched.map(([t]) => t).join(', ')}): rebuilding`,
        );
        await client.end();
        client = undefined;
      } else {
        console.log(
          `  reusing ${dbName}: all ${expected.size} exact counts match ${path.basename(expectedFile)}`,
        );
      }
    }
    if (!client) {
      console.log(
        `  building ${dbName} with make_seedscale.sh (SCALE=1: about 2 minutes and 5 GB on 2 cores)...`,
      );
      const t0 = Date.now();
      execFileSync('bash', [path.join(dir, 'make_seedscale.sh')], {
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      console.log(`  built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      client = await connectTo(dbName);
    }
    const expected = readExpected(expectedFile);
    const tables = [...expected.keys()];
    const writer = await connectTo(dbName);
    const flush = () => writer.query('SELECT pg_stat_force_next_flush()');

    try {
      // Schedule and audit interval as prod runs them (lib/config/environments/prod.ts).
      const plan: ChecksConfig = checksSchema.parse({
        scheduleMinutes: 1,
        exactEveryMinutes: 60,
        tables: tables.map((t) => ({
          table: t,
          noDecrease: true,
          appendOnly: true,
          trackSchema: true,
          minRows:
            CRITICAL_FLOORS[t] !== undefined ? Math.round(CRITICAL_FLOORS[t]! * Number(scale)) : undefined,
        })),
        freshness: [
          {
            table: 'dims_metrics_snapshots',
            column: 'created_at',
            warnAfterMinutes: 720,
            errorAfterMinutes: 1440,
          },
          {
            table: 'box_score_snapshots',
            column: 'created_at',
            warnAfterMinutes: 720,
            errorAfterMinutes: 1440,
          },
        ],
      });
      const store = new MemoryStateStore();
      let clock = new Date();
      const sweep = (accept?: string[]) =>
        runChecks({ client: client!, plan, store, accept, clock: () => clock });
      const tick = () => (clock = new Date(clock.getTime() + plan.scheduleMinutes * 60_000));

      // Warm both paths; the checker's first run takes its exact baselines (key ranges of every table).
      if (!warm) warm = await naiveSweep(client, tables);
      const b0 = process.hrtime.bigint();
      const baseline = await sweep();
      console.log(
        `  checker first run (baselines: exact count and key ranges of all 40 tables): ${baseline.databaseMs.toFixed(0)} ms database time (${ms(process.hrtime.bigint() - b0).toFixed(0)} ms wall), status ${baseline.status}`,
      );

      // One whole audit pass, as prod runs it (every scheduleMinutes, each table read exactly within
      // exactEveryMinutes): every run's database time, with the naive sweep measured in between.
      const passRuns = Math.ceil(plan.exactEveryMinutes / plan.scheduleMinutes) + 1;
      const naive: number[] = [];
      const mine: number[] = [];
      let audited = 0;
      let last: RunReport | undefined;
      for (let i = 0; i < passRuns; i++) {
        if (i % Math.max(1, Math.floor(passRuns / iterations)) === 0 && naive.length < iterations)
          naive.push((await naiveSweep(client, tables)).ms);
        tick();
        last = await sweep();
        mine.push(last.databaseMs);
        audited += last.audited?.length ?? 0;
        if (last.exactCounts.length > 0 || last.status !== 'ok') {
          throw new Error(
            `steady-state run read whole tables ${JSON.stringify(last.exactCounts)} / status ${last.status}: ${JSON.stringify(last.results.filter((r) => r.status !== 'ok'))}`,
          );
        }
      }
      const n = median(naive);
      const m = median(mine);
      const amortized = mine.reduce((x, y) => x + y, 0) / mine.length;
      const largest = Math.max(...mine);
      console.log(
        `  naive sweep, 40 x SELECT count(*):  median ${n.toFixed(1)} ms  (runs: ${naive.map((x) => x.toFixed(0)).join(', ')})`,
      );
      console.log(
        `  checker, one audit pass of ${passRuns} runs (schedule ${plan.scheduleMinutes} min, every table exactly within ${plan.exactEveryMinutes} min; ${audited} audit slices):`,
      );
      console.log(`    steady-state run median ${m.toFixed(2)} ms (${((m / n) * 100).toFixed(2)}% of naive)`);
      console.log(
        `    amortized incl. the rotating audit ${amortized.toFixed(2)} ms per run (${((amortized / n) * 100).toFixed(2)}% of naive; target <= ${TARGET_FRACTION * 100}%)`,
      );
      console.log(
        `    largest single run ${largest.toFixed(1)} ms (${((largest / n) * 100).toFixed(2)}% of naive; target <= ${LARGEST_FRACTION * 100}%)`,
      );
      // As the Lambda runs it: a new connection per run (backend start and cold catalog caches included).
      const fresh: number[] = [];
      for (let i = 0; i < iterations; i++) {
        tick();
        const t0 = process.hrtime.bigint();
        const r = await checkDatabase(
          {
            host: '127.0.0.1',
            port: Number(port),
            user: 'postgres',
            database: dbName,
            sslMode: 'disable',
            statementTimeoutMs: 30_000,
            lockTimeoutMs: 5_000,
          },
          plan,
          store,
          { clock: () => clock },
        );
        fresh.push(ms(process.hrtime.bigint() - t0));
        if (r.status === 'error')
          throw new Error(`run on a new connection failed: ${JSON.stringify(r.failures)}`);
      }
      console.log(
        `  checker run on a new connection (connect + sweep + close), wall: median ${median(fresh).toFixed(1)} ms`,
      );
      console.log('  worst-case detection time per class (from this config):');
      for (const [what, bound] of detectionBounds(plan)) console.log(`    ${what}: ${bound}`);

      // --- Fault 1: a single-row DELETE in hoopr_play_by_play while another session inserts ~50 rows/s ------
      const victimId = 4_100_000;
      const victim = (
        await writer.query('SELECT to_jsonb(h) AS row FROM hoopr_play_by_play h WHERE id = $1', [victimId])
      ).rows[0]?.row;
      if (!victim) throw new Error(`hoopr_play_by_play has no id ${victimId}`);
      const topBefore = Number(
        (await writer.query<{ m: string }>('SELECT max(id) AS m FROM hoopr_play_by_play')).rows[0]!.m,
      );
      const loader = await connectTo(dbName);
      let loading = true;
      let loaded = 0;
      const loop = (async () => {
        while (loading) {
          await loader.query(
            "INSERT INTO hoopr_play_by_play SELECT * FROM jsonb_populate_record(NULL::hoopr_play_by_play, $1::jsonb || jsonb_build_object('id', $2::bigint))",
            [victim, topBefore + 1 + loaded],
          );
          loaded++;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      let deleted = false;
      let deleteOk = false;
      try {
        await new Promise((r) => setTimeout(r, 2000));
        tick();
        const quiet = await sweep();
        if (quiet.status !== 'ok')
          throw new Error(
            `false alarm while loading: ${JSON.stringify(quiet.results.filter((r) => r.status !== 'ok'))}`,
          );
        await writer.query('DELETE FROM hoopr_play_by_play WHERE id = $1', [victimId]);
        deleted = true;
        await flush();
        tick();
        const t0 = process.hrtime.bigint();
        const r = await sweep();
        const wall = ms(process.hrtime.bigint() - t0);
        const t = r.tables.find((x) => x.key === 'public.hoopr_play_by_play');
        const detail =
          r.results.find((x) => x.target === 'public.hoopr_play_by_play' && x.rule === 'noDecrease')
            ?.detail ?? '';
        deleteOk = t?.rowsLost === 1 && r.status === 'violation' && /^id 4,100,000: 1 row lost/.test(detail);
        console.log(
          `  fault 1, DELETE of 1 row in hoopr_play_by_play (13M rows) while another session inserts ~50 rows/s (${loaded} inserted so far): ${deleteOk ? 'CONFIRMED' : 'MISSED'} in one run: ${wall.toFixed(0)} ms wall, ${r.databaseMs.toFixed(0)} ms database time (${detail.split(' (')[0]}; read: ${r.exactCounts.map((c) => `${c.key} (${c.reason})`).join(', ')})`,
        );
      } finally {
        loading = false;
        await loop;
        await loader.end();
        if (deleted) {
          await writer.query(
            'INSERT INTO hoopr_play_by_play SELECT * FROM jsonb_populate_record(NULL::hoopr_play_by_play, $1)',
            [victim],
          );
        }
        await writer.query('DELETE FROM hoopr_play_by_play WHERE id > $1', [topBefore]);
        await flush();
      }
      tick();
      await sweep(['public.hoopr_play_by_play']);

      // --- Fault 2: TRUNCATE of a small table -----------------------------------------------------------------
      const saved = (await writer.query("SELECT coalesce(jsonb_agg(s), '[]') AS rows FROM shot_zones s"))
        .rows[0].rows;
      let truncated = false;
      let truncateOk = false;
      try {
        await writer.query('TRUNCATE shot_zones');
        truncated = true;
        await flush();
        tick();
        const r = await sweep();
        const t = r.tables.find((x) => x.key === 'public.shot_zones');
        truncateOk = t?.rowsLost === saved.length && r.status === 'violation';
        console.log(
          `  fault 2, TRUNCATE shot_zones (${saved.length} rows): ${truncateOk ? 'DETECTED' : 'MISSED'} in one run (rowsLost ${t?.rowsLost}, reason: ${r.exactCounts.map((c) => c.reason).join(', ')}; ${r.databaseMs.toFixed(1)} ms)`,
        );
      } finally {
        if (truncated) {
          await writer.query(
            'INSERT INTO shot_zones SELECT * FROM jsonb_populate_recordset(NULL::shot_zones, $1)',
            [JSON.stringify(saved)],
          );
          await flush();
        }
      }
      tick();
      await sweep(['public.shot_zones']);

      // --- Fault 3: a dropped column (awards.created_at, the last column, so re-adding it restores the shape) --
      const values = (await writer.query('SELECT jsonb_object_agg(award_id, created_at) AS v FROM awards'))
        .rows[0].v;
      let dropped = false;
      let dropOk = false;
      try {
        await writer.query('ALTER TABLE awards DROP COLUMN created_at');
        dropped = true;
        tick();
        const r = await sweep();
        const s = r.results.find((x) => x.target === 'public.awards' && x.rule === 'schema');
        dropOk = s?.status === 'violation' && /column created_at dropped/.test(s.detail);
        console.log(
          `  fault 3, ALTER TABLE awards DROP COLUMN created_at: ${dropOk ? 'DETECTED' : 'MISSED'} in one run (${s?.detail}; ${r.databaseMs.toFixed(1)} ms)`,
        );
      } finally {
        if (dropped) {
          await writer.query('BEGIN');
          await writer.query('ALTER TABLE awards ADD COLUMN created_at timestamptz');
          await writer.query(
            "UPDATE awards a SET created_at = (v.value #>> '{}')::timestamptz FROM jsonb_each($1::jsonb) v WHERE a.award_id = v.key::int",
            [JSON.stringify(values)],
          );
          await writer.query('ALTER TABLE awards ALTER COLUMN created_at SET NOT NULL');
          await writer.query('COMMIT');
        }
      }
      // Re-added, the column has a new attribute number: the schema stays changed until accepted.
      tick();
      const after = await sweep();
      tick();
      const acceptedAfter = await sweep(['public.awards']);
      const readded = after.results.find((x) => x.target === 'public.awards' && x.rule === 'schema');
      const restoredSchema = acceptedAfter.results.find(
        (x) => x.target === 'public.awards' && x.rule === 'schema',
      );

      // --- Everything restored? -----------------------------------------------------------------------------------
      const touched = ['hoopr_play_by_play', 'shot_zones', 'awards'];
      const restored = await naiveSweep(client, touched);
      const intact = touched.every((t) => restored.counts.get(t) === expected.get(t));
      console.log(
        `  restored: ${intact ? 'yes' : 'NO'} (exact counts of ${touched.join(', ')} match ${path.basename(expectedFile)}; awards after the column was re-added: schema ${readded?.status} (${readded?.detail.split(' (accept')[0]}), then accepted: ${restoredSchema?.status})`,
      );

      return (
        amortized <= n * TARGET_FRACTION &&
        largest <= n * LARGEST_FRACTION &&
        deleteOk &&
        truncateOk &&
        dropOk &&
        intact
      );
    } finally {
      await writer.end();
      await client.end();
    }
  },
};
export default bench;
