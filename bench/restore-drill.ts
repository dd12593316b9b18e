/**
 * `npm run bench -- restore-drill`
 *
 * The drill's verification on the production-shaped seedscale database the data-checks benchmark builds and
 * keeps (SCALE=1: ~20M rows in 40 tables, cluster SEEDSCALE_BASE on 127.0.0.1:SEEDSCALE_PORT, database
 * nba_s1; build it with `npm run bench -- data-checks` first). Read-only: it never changes the database.
 * Measures, standing in for a restored copy:
 *   1. the manifest baseline: one checker run with an empty state (every table counted exactly);
 *   2. the verification with prod's checks and sentinel (what the prod drill runs);
 *   3. the verification with all 40 tables configured (the worst case a config could ask for).
 * Target: each verification within a third of the verifier's 15-minute limit on this warm local server, so a
 * restored RDS volume (cold: blocks load from S3 on first read) has room.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../lib/config';
import { checksSchema } from '../lib/config/sections/checks';
import type { ConnectionSettings } from '../lambda/data-checks/connection';
import { checkDatabase } from '../lambda/data-checks/run';
import { MemoryStateStore } from '../lambda/data-checks/state-store';
import { captureManifest } from '../lambda/restore-drill/manifest';
import { VERIFY_TIMEOUT_MINUTES } from '../lambda/restore-drill/names';
import { verifyRestoredCopy } from '../lambda/restore-drill/verify';
import type { Benchmark } from './index';

const bench: Benchmark = {
  async run() {
    const base = process.env.SEEDSCALE_BASE ?? '/tmp/pipeline-guardrails-bench';
    const port = Number(process.env.SEEDSCALE_PORT ?? '55442');
    const database = 'nba_s1';
    const expectedFile = path.join(base, `expected_counts_${database}.csv`);
    const admin = new Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      password: '',
    });
    try {
      await admin.connect();
    } catch (err) {
      console.log(
        `  no seedscale cluster on 127.0.0.1:${port} (${(err as Error).message}): run npm run bench -- data-checks first`,
      );
      return false;
    }
    const exists =
      (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
    await admin.end();
    if (!exists || !fs.existsSync(expectedFile)) {
      console.log(`  ${database} is not built: run npm run bench -- data-checks first`);
      return false;
    }
    const allTables = fs
      .readFileSync(expectedFile, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]!);
    const settings: ConnectionSettings = {
      host: '127.0.0.1',
      port,
      database,
      user: 'postgres',
      sslMode: 'disable',
      statementTimeoutMs: 300_000,
      lockTimeoutMs: 5_000,
    };
    const prod = loadConfig('prod');
    const limitMs = (VERIFY_TIMEOUT_MINUTES * 60_000) / 3;
    let ok = true;
    for (const [label, checks, sentinel] of [
      ['prod checks (5 tables) + sentinel', prod.checks, prod.snapshots.drill?.sentinel],
      [
        `all ${allTables.length} tables`,
        checksSchema.parse({ tables: allTables.map((table) => ({ table, noDecrease: true })) }),
        undefined,
      ],
    ] as const) {
      const keys = checks.tables.map((t) => `${t.schemaName}.${t.table}`);
      const store = new MemoryStateStore();
      const t0 = process.hrtime.bigint();
      const baseline = await checkDatabase(settings, checks, store);
      const baselineMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const manifest = { snapshotId: 'bench', ...(await captureManifest(store, keys, new Date())) };
      const rss0 = process.memoryUsage().rss;
      const t1 = process.hrtime.bigint();
      const v = await verifyRestoredCopy({ settings, checks, snapshotId: 'bench', manifest, sentinel });
      const verifyMs = Number(process.hrtime.bigint() - t1) / 1e6;
      const rows = v.tables.reduce((n, t) => n + (t.count ?? 0), 0);
      console.log(
        `  ${label}: baseline run ${(baselineMs / 1000).toFixed(1)} s (${baseline.status}); verification ${(verifyMs / 1000).toFixed(1)} s over ${rows.toLocaleString('en-US')} rows, ${v.findings.length} findings, passed=${v.passed}, rss +${Math.round((process.memoryUsage().rss - rss0) / 1e6)} MB`,
      );
      if (!v.passed) {
        console.log(
          `    failed: ${v.findings
            .filter((f) => !f.passed)
            .map((f) => `${f.rule} ${f.target}: ${f.detail}`)
            .join('; ')}`,
        );
        ok = false;
      }
      if (verifyMs > limitMs) {
        console.log(`    MISSED: verification over ${limitMs / 60_000} min`);
        ok = false;
      }
    }
    return ok;
  },
};

export default bench;
