import { classifyError, clientConfig, type ConnectionSettings } from '../../../lambda/data-checks/connection';
import { qualifiedName, quoteIdent } from '../../../lambda/data-checks/sql';

const base: ConnectionSettings = {
  host: 'db.example.com',
  port: 5432,
  database: 'nba',
  user: 'guardrails_checks',
  password: 'p',
  sslMode: 'verify-full',
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 5_000,
};

describe('clientConfig', () => {
  it('verify-full checks the certificate chain and the host name, with the Lambda CA bundle or a given CA', () => {
    expect(clientConfig(base).ssl).toEqual({ rejectUnauthorized: true, servername: 'db.example.com' });
    expect(clientConfig({ ...base, ca: 'PEM' }).ssl).toEqual({
      rejectUnauthorized: true,
      servername: 'db.example.com',
      ca: 'PEM',
    });
  });
  it('require encrypts without verifying; disable is for a local server', () => {
    expect(clientConfig({ ...base, sslMode: 'require' }).ssl).toEqual({ rejectUnauthorized: false });
    expect(clientConfig({ ...base, sslMode: 'disable' }).ssl).toBe(false);
  });
  it('sets the timeouts and the application name on the session', () => {
    expect(clientConfig(base)).toMatchObject({
      application_name: 'pipeline-guardrails-checks',
      statement_timeout: 30_000,
      lock_timeout: 5_000,
    });
  });
});

describe('classifyError', () => {
  const pgError = (code: string) => Object.assign(new Error('x'), { code });
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'unreachable'],
    [new Error('timeout expired'), 'timeout'],
    [pgError('28P01'), 'authentication'],
    [pgError('3D000'), 'missing-object'],
    [pgError('57014'), 'timeout'],
    [pgError('55P03'), 'timeout'],
    [pgError('42501'), 'permission-denied'],
    [pgError('42P01'), 'missing-object'],
    [pgError('42703'), 'missing-object'],
    [new Error('self-signed certificate in certificate chain'), 'unreachable'],
    [pgError('XX000'), 'error'],
  ])('%s -> %s', (err, kind) => {
    expect(classifyError(err)).toBe(kind);
  });
});

describe('quoteIdent', () => {
  it('quotes and doubles embedded quotes; refuses empty and NUL', () => {
    expect(quoteIdent('games')).toBe('"games"');
    expect(quoteIdent('we"ird; DROP TABLE x; --')).toBe('"we""ird; DROP TABLE x; --"');
    expect(qualifiedName('odd"schema', 't')).toBe('"odd""schema"."t"');
    expect(() => quoteIdent('')).toThrow(/cannot be empty/);
    expect(() => quoteIdent('a\u0000b')).toThrow(/NUL/);
  });
});
