// Starts and stops a throwaway PostgreSQL server from the machine's PostgreSQL binaries (Debian's
// postgresql package; the same major version RDS runs). Used by jest's global setup and by the benchmark.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CANDIDATE_VERSIONS = ['17', '16', '15'];

/** Directory holding initdb/pg_ctl: $PGBIN, else the newest /usr/lib/postgresql/<major>/bin. */
export function findPgBin() {
  const fromEnv = process.env.PGBIN;
  if (fromEnv && fs.existsSync(path.join(fromEnv, 'initdb'))) return fromEnv;
  for (const v of CANDIDATE_VERSIONS) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (fs.existsSync(path.join(dir, 'initdb'))) return dir;
  }
  throw new Error(
    'No PostgreSQL server binaries found (looked at $PGBIN and /usr/lib/postgresql/{17,16,15}/bin). ' +
      'Install them with: apt-get install -y postgresql  (or set PGBIN to a directory with initdb and pg_ctl)',
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const TEMP_PREFIX = 'pipeline-guardrails-pg-';
const OWNER_FILE = 'owner.pid';
/** Earlier harness versions left `pipeline-guardrails-jest-pg-<pid>.json` behind; removed once their run is gone. */
const LEGACY_STATE_FILE = /^pipeline-guardrails-jest-pg-(\d+)\.json$/;

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Stops and removes throwaway servers whose starting process is gone (a test run killed before teardown). */
export function stopOrphanedServers(pgBin, user) {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const legacy = LEGACY_STATE_FILE.exec(name);
    if (legacy) {
      if (!isAlive(Number(legacy[1]))) fs.rmSync(path.join(os.tmpdir(), name), { force: true });
      continue;
    }
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    let owner;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours to judge (no owner file)
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    try {
      run(user, path.join(pgBin, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** PostgreSQL refuses to run as root: run its commands as an unprivileged OS user then. */
function osUser() {
  if (process.getuid && process.getuid() !== 0) return undefined;
  const user = process.env.PG_OS_USER || 'postgres';
  const exists = spawnSync('id', ['-u', user], { stdio: 'ignore' }).status === 0;
  if (!exists)
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  return user;
}

function run(user, cmd, args) {
  const [file, argv] = user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/**
 * initdb + start on a free loopback port. Returns { host, port, user, dataDir, pgBin, osUser, stop() }.
 * Settings favour speed over durability (fsync off): it is a throwaway test server.
 */
export async function startPostgres({ baseDir, extraConf = [] } = {}) {
  const pgBin = findPgBin();
  const user = osUser();
  if (!baseDir) stopOrphanedServers(pgBin, user);
  const dir = baseDir ?? fs.mkdtempSync(path.join(os.tmpdir(), TEMP_PREFIX));
  fs.mkdirSync(dir, { recursive: true });
  // Who started it: a later run stops the server if this process died without its teardown (killed jest).
  fs.writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const dataDir = path.join(dir, 'data');
  if (user) execFileSync('chown', ['-R', user, dir]);
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    run(user, path.join(pgBin, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    const conf = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 200',
      'shared_buffers = 256MB',
      ...extraConf,
    ];
    fs.appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      `\n# pipeline-guardrails test server\n${conf.join('\n')}\n`,
    );
  }
  run(user, path.join(pgBin, 'pg_ctl'), [
    '-D',
    dataDir,
    '-o',
    `-p ${port}`,
    '-l',
    path.join(dir, 'postgres.log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    dataDir,
    dir,
    pgBin,
    osUser: user,
    stop() {
      try {
        run(user, path.join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
