import { Client, type ClientConfig } from 'pg';

/**
 * How the checker reaches PostgreSQL: one connection per run, TLS verified by default, a read-only
 * transaction, statement and lock timeouts, and an application_name that shows up in pg_stat_activity.
 */
export const APPLICATION_NAME = 'pipeline-guardrails-checks';

/** `verify-full` (default: certificate chain and host name checked), `require` (encrypted, unverified), `disable`. */
export type SslMode = 'verify-full' | 'require' | 'disable';
export const SSL_MODES: readonly SslMode[] = ['verify-full', 'require', 'disable'];

export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  readonly sslMode: SslMode;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  /** @default 10000 */
  readonly connectTimeoutMs?: number;
  /** PEM of the CA to trust (e.g. the RDS bundle from a laptop). @default Node's CAs + NODE_EXTRA_CA_CERTS */
  readonly ca?: string;
}

export function isSslMode(v: string): v is SslMode {
  return (SSL_MODES as readonly string[]).includes(v);
}

/**
 * pg client options. With `verify-full` the server certificate must chain to a CA Node trusts: on Lambda,
 * NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem adds the RDS CAs.
 */
export function clientConfig(s: ConnectionSettings): ClientConfig {
  const ssl =
    s.sslMode === 'disable'
      ? false
      : s.sslMode === 'require'
        ? { rejectUnauthorized: false }
        : { rejectUnauthorized: true, servername: s.host, ...(s.ca ? { ca: s.ca } : {}) };
  return {
    host: s.host,
    port: s.port,
    database: s.database,
    user: s.user,
    // An explicit empty password stops pg from falling back to PGPASSWORD / ~/.pgpass surprises.
    password: s.password ?? '',
    ssl,
    application_name: APPLICATION_NAME,
    statement_timeout: s.statementTimeoutMs,
    lock_timeout: s.lockTimeoutMs,
    idle_in_transaction_session_timeout: s.statementTimeoutMs * 4,
    connectionTimeoutMillis: s.connectTimeoutMs ?? 10_000,
  };
}

/** Why a run could not look at the database. Each kind yields a CheckFailures metric and a failed run. */
export type FailureKind =
  | 'unreachable'
  | 'authentication'
  | 'timeout'
  | 'permission-denied'
  | 'missing-object'
  | 'row-security'
  | 'unverified'
  | 'replica'
  | 'state'
  | 'error';

/** The checker could not check: never reported as green. */
export class CheckFailedError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CheckFailedError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
]);

/** Classifies a pg / network error by SQLSTATE or errno. */
export function classifyError(err: unknown): FailureKind {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : String(err);
  if (NETWORK_CODES.has(code) || /timeout expired|Connection terminated|connect ETIMEDOUT/i.test(message)) {
    return /timeout/i.test(message) && !NETWORK_CODES.has(code) ? 'timeout' : 'unreachable';
  }
  if (code === '28P01' || code === '28000') return 'authentication';
  if (code === '3D000') return 'missing-object'; // the database itself does not exist
  if (code === '57014' || code === '55P03') return 'timeout';
  if (code === '42501') return 'permission-denied';
  if (code === '42P01' || code === '42703' || code === '3F000' || code === '42883') return 'missing-object';
  if (/self[- ]signed|certificate|CERT_|does not support SSL|SSL/i.test(message)) return 'unreachable';
  return 'error';
}

export function asCheckFailed(err: unknown, what: string): CheckFailedError {
  if (err instanceof CheckFailedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CheckFailedError(classifyError(err), `${what}: ${message}`, { cause: err });
}

/** Opens the run's one connection, or throws a CheckFailedError saying why not. */
export async function connect(s: ConnectionSettings): Promise<Client> {
  const client = new Client(clientConfig(s));
  // A server that drops the connection later must not crash the process with an unhandled 'error'.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw asCheckFailed(err, `cannot connect to ${s.host}:${s.port}/${s.database} as ${s.user}`);
  }
}
