/**
 * `npm run bench -- parity [--scale=1] [--tables=play_by_play,hoopr_play_by_play] [--skip-naive]`
 *
 * On the production-shaped seedscale database (the one `npm run bench -- data-checks` builds and keeps at
 * SEEDSCALE_BASE, port SEEDSCALE_PORT, database nba_s<scale>), creates green copies of the tables in a
 * `unified` schema (once; reused while their counts match), then reports for each table in one run:
 *   - `count(*)` (warm, median of 3) and the naive diff (EXCEPT ALL both ways, one statement);
 *   - the clean compare with each algorithm: bucket (key ranges, two connections; and one connection),
 *     bucket with hash buckets (the composite key game_id + id), bisect;
 *   - the compare with one planted difference (one value changed in green, then restored): it must be found;
 *   - database time per million rows, and the process's peak RSS during each compare.
 * Targets: clean compare <= 1/4 of the naive diff; planted <= 1.5x clean; peak memory independent of size.
 *
 * Variables: SCALE, SEEDSCALE_BASE (default /tmp/pipeline-guardrails-bench), SEEDSCALE_PORT (55442),
 * SEEDSCALE_DIR (default ../shared/seedscale beside the repository).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { qualifiedName, quoteIdent } from '../lambda/data-checks/sql';
import { compareRelations } from '../lambda/parity/engine';
import type { ParityResult } from '../lambda/parity/result';
import type { ParitySpec } from '../lambda/parity/spec';
import type { Benchmark } from './index';

const CLEAN_TARGET = 0.25;
const PLANTED_TARGET = 1.5;

function flag(flags: string[], name: string): string | undefined {
  return flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T; peakRss: number }> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = process.hrtime.bigint();
  try {
    const value = await fn();
    return {
      ms: Number(process.hrtime.bigint() - t0) / 1e6,
      value,
      peakRss: Math.max(peak, process.memoryUsage().rss),
    };
  } finally {
    clearInterval(sampler);
  }
}

const bench: Benchmark = {
  async run(flags) {
    const scale = flag(flags, 'scale') ?? process.env.SCALE ?? '1';
    if (!/^\d+(\.\d+)?$/.test(scale)) throw new Error(`--scale: got ${scale}, expected a positive number`);
    const tables = (flag(flags, 'tables') ?? 'play_by_play,hoopr_play_by_play').split(',');
    const skipNaive = flags.includes('--skip-naive');
    const base = process.env.SEEDSCALE_BASE ?? '/tmp/pipeline-guardrails-bench';
    const port = Number(process.env.SEEDSCALE_PORT ?? '55442');
    const dbName = `nba_s${scale.replace('.', '_')}`;
    const dir = process.env.SEEDSCALE_DIR ?? path.join(__dirname, '..', '..', 'shared', 'seedscale');
    if (fs.existsSync(path.join(dir, 'start.sh'))) {
      execFileSync('bash', [path.join(dir, 'start.sh')], {
        env: { ...process.env, BASE: base, PGPORT: String(port), PGHOST: base, PGUSER: 'postgres' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    }
    const connect = async () => {
      const c = new Client({ host: '127.0.0.1', port, user: 'postgres', password: '', database: dbName });
      await c.connect();
      return c;
    };
    let admin: Client;
    try {
      admin = await connect();
    } catch (err) {
      throw new Error(
        `cannot open ${dbName} on 127.0.0.1:${port} (${(err as Error).message}): build it first with npm run bench -- data-checks`,
        { cause: err },
      );
    }
    const [c1, c2] = [await connect(), await connect()];
    console.log(`  seedscale ${dbName} on 127.0.0.1:${port}; green copies in schema unified`);
    console.log(
      '  note: the machine is shared (2 cores): timings include other work running at the same time',
    );
    let ok = true;
    try {
      await admin.query('CREATE SCHEMA IF NOT EXISTS unified');
      for (const table of tables) {
        const blue = qualifiedName('public', table);
        const green = qualifiedName('unified', table);
        const count = async (rel: string) =>
          Number((await admin.query(`SELECT count(*) AS n FROM ${rel}`)).rows[0].n);
        const rows = await count(blue);
        const exists =
          (await admin.query('SELECT to_regclass($1) AS r', [`unified.${table}`])).rows[0].r !== null;
        if (!exists || (await count(green)) !== rows) {
          console.log(`  creating ${green} (${rows} rows)...`);
          await admin.query(`DROP TABLE IF EXISTS ${green}`);
          await admin.query(`CREATE TABLE ${green} (LIKE ${blue} INCLUDING ALL)`);
          await admin.query(`INSERT INTO ${green} SELECT * FROM ${blue}`);
          await admin.query(`VACUUM ANALYZE ${green}`);
        }
        // A planted value left behind by an interrupted run is put back first.
        const col = table === 'play_by_play' ? 'score' : 'text';
        const q = quoteIdent(col);
        const repaired = await admin.query(
          `UPDATE ${green} g SET ${q} = b.${q} FROM ${blue} b WHERE b.id = g.id AND g.${q} LIKE '% (planted)'`,
        );
        if (repaired.rowCount)
          console.log(`  ${green}: put back ${repaired.rowCount} planted value(s) of an interrupted run`);
        const spec: ParitySpec = {
          blue: { schemaName: 'public', table },
          green: { schemaName: 'unified', table },
          key: ['id'],
        };
        const counts: number[] = [];
        for (let i = 0; i < 3; i++) counts.push((await timed(() => count(blue))).ms);
        const countMs = median(counts);
        let naiveMs: number | undefined;
        if (!skipNaive) {
          const naive = await timed(() =>
            admin.query(
              `SELECT (SELECT count(*) FROM (SELECT * FROM ${blue} EXCEPT ALL SELECT * FROM ${green}) x) +
                      (SELECT count(*) FROM (SELECT * FROM ${green} EXCEPT ALL SELECT * FROM ${blue}) y) AS n`,
            ),
          );
          naiveMs = naive.ms;
        }
        console.log(`\n  ${table}: ${rows.toLocaleString('en-US')} rows per side`);
        console.log(`    count(*) (warm, median of 3):       ${sec(countMs)}`);
        if (naiveMs !== undefined) console.log(`    naive diff (EXCEPT ALL both ways):  ${sec(naiveMs)}`);

        const variants: { name: string; spec: ParitySpec; clients: [Client] | [Client, Client] }[] = [
          { name: 'bucket, key ranges, 2 connections', spec, clients: [c1, c2] },
          { name: 'bucket, key ranges, 1 connection', spec, clients: [c1] },
          {
            name: 'bucket, hash (key game_id,id), 2 conn',
            spec: { ...spec, key: ['game_id', 'id'] },
            clients: [c1, c2],
          },
          { name: 'bisect, 2 connections', spec: { ...spec, algorithm: 'bisect' }, clients: [c1, c2] },
        ];
        const line = (label: string, r: { ms: number; value: ParityResult; peakRss: number }) => {
          const v = r.value;
          const perMillion = v.databaseMs / ((v.rows.blue + v.rows.green) / 1e6);
          console.log(
            `    ${label.padEnd(44)} ${sec(r.ms).padStart(8)}  ${v.status.padEnd(9)} changed ${v.changed}, onlyIn ${v.onlyInBlue}/${v.onlyInGreen}; db ${sec(v.databaseMs)} (${perMillion.toFixed(0)} ms per million rows); x count(*) ${(r.ms / countMs).toFixed(1)}${naiveMs ? `; / naive ${(r.ms / naiveMs).toFixed(3)}` : ''}; peak RSS ${mib(r.peakRss)}`,
          );
        };
        const clean: Record<string, number> = {};
        for (const v of variants) {
          const r = await timed(() => compareRelations({ clients: v.clients, spec: v.spec }));
          clean[v.name] = r.ms;
          line(`clean: ${v.name}`, r);
          if (r.value.status !== 'identical') ok = false;
        }
        // One planted difference, committed, then restored.
        const [mid] = (
          await admin.query(`SELECT id FROM ${green} ORDER BY id OFFSET ${Math.floor(rows / 2)} LIMIT 1`)
        ).rows;
        await admin.query(
          `UPDATE ${green} SET ${quoteIdent(col)} = coalesce(${quoteIdent(col)}, '') || ' (planted)' WHERE id = $1`,
          [mid.id],
        );
        try {
          for (const v of variants) {
            const r = await timed(() => compareRelations({ clients: v.clients, spec: v.spec }));
            line(`planted: ${v.name}`, r);
            const found = r.value.changed === 1 && r.value.samples[0]?.key.id === String(mid.id);
            const ratio = r.ms / clean[v.name]!;
            console.log(
              `      found: ${found ? 'yes' : 'NO'}; planted / clean = ${ratio.toFixed(2)} (target <= ${PLANTED_TARGET})`,
            );
            if (!found) ok = false;
            if (v.name.startsWith('bucket, key ranges, 2') && ratio > PLANTED_TARGET) ok = false;
          }
        } finally {
          await admin.query(
            `UPDATE ${green} g SET ${quoteIdent(col)} = b.${quoteIdent(col)} FROM ${blue} b WHERE b.id = g.id AND g.id = $1`,
            [mid.id],
          );
        }
        const best = clean['bucket, key ranges, 2 connections']!;
        if (naiveMs !== undefined) {
          const fraction = best / naiveMs;
          console.log(
            `    clean (bucket, 2 connections) / naive = ${fraction.toFixed(3)} (target <= ${CLEAN_TARGET}): ${fraction <= CLEAN_TARGET ? 'met' : 'MISSED'}`,
          );
          if (fraction > CLEAN_TARGET) ok = false;
        }
      }
    } finally {
      await Promise.all([admin.end(), c1.end(), c2.end()]);
    }
    return ok;
  },
};

export default bench;
