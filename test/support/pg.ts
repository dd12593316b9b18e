import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type ClientConfig } from 'pg';

/** Connection settings of the PostgreSQL that jest's global setup started. */
export function serverConfig(database = 'postgres'): ClientConfig {
  const host = process.env.PGHOST;
  const port = process.env.PGPORT;
  if (!host || !port) {
    throw new Error(
      'PGHOST/PGPORT are not set: run the tests through jest (its globalSetup starts PostgreSQL)',
    );
  }
  return { host, port: Number(port), user: process.env.PGUSER ?? 'postgres', database };
}

export interface TestDatabase {
  readonly name: string;
  readonly config: ClientConfig;
  /** `postgres://...` URL of the database. */
  readonly url: string;
  /** Opens a new connected client (closed by `drop()` if still open). */
  connect(): Promise<Client>;
  /** Runs SQL in a short-lived connection. */
  query(sql: string, params?: unknown[]): Promise<import('pg').QueryResult>;
  /** Closes the clients opened here and drops the database. */
  drop(): Promise<void>;
}

let counter = 0;

/** Creates a fresh, empty database for one test file (or one test) on the harness's server. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  await withClient(serverConfig(), (c) => c.query(`CREATE DATABASE "${name}"`));
  const config = serverConfig(name);
  const clients: Client[] = [];
  return {
    name,
    config,
    url: `postgres://${config.user}@${config.host}:${config.port}/${name}`,
    async connect() {
      const c = new Client(config);
      await c.connect();
      clients.push(c);
      return c;
    },
    query(sql, params) {
      return withClient(config, (c) => c.query(sql, params));
    },
    async drop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await withClient(serverConfig(), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

export async function withClient<T>(config: ClientConfig, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client(config);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** ../shared/seedscale beside the repository, or $SEEDSCALE_DIR. */
export function seedscaleDir(): string {
  const dir = process.env.SEEDSCALE_DIR ?? path.join(__dirname, '..', '..', '..', 'shared', 'seedscale');
  if (!fs.existsSync(path.join(dir, 'make_seedscale.sh'))) {
    throw new Error(
      `seedscale not found at ${dir}: set SEEDSCALE_DIR to the folder holding make_seedscale.sh`,
    );
  }
  return dir;
}

/**
 * Loads the production-shaped seedscale database into `db` at a small scale (SCALE=0.01 builds all
 * 40 tables in a few seconds). Returns the exact row count per table that the generator reports.
 */
export function loadSeedscale(db: TestDatabase, scale = 0.01): Map<string, number> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'seedscale-'));
  try {
    execFileSync('bash', [path.join(seedscaleDir(), 'make_seedscale.sh')], {
      env: {
        ...process.env,
        BASE: base,
        SCALE: String(scale),
        DBNAME: db.name,
        PGHOST: String(db.config.host),
        PGPORT: String(db.config.port),
        PGUSER: String(db.config.user),
        ANCHOR: new Date().toISOString(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const csv = fs
      .readFileSync(path.join(base, `expected_counts_${db.name}.csv`), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    return new Map(
      csv.map((line) => {
        const [table, rows] = line.split(',');
        return [table!, Number(rows)];
      }),
    );
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
