import {
  errorMessage,
  MissingEnvironmentVariableError,
  optionalEnv,
  requireEnv,
} from '../../../lambda/shared/env';
import { createLogger } from '../../../lambda/shared/logger';

describe('requireEnv', () => {
  it('returns a set variable', () => {
    expect(requireEnv('A', { A: 'x' })).toBe('x');
  });
  it.each([undefined, ''])('throws a typed error naming the variable when it is %p', (value) => {
    expect(() => requireEnv('A', { A: value })).toThrow(MissingEnvironmentVariableError);
    expect(() => requireEnv('A', { A: value })).toThrow(/A is required/);
  });
  it('optionalEnv falls back only when unset or empty', () => {
    expect(optionalEnv('A', 'd', {})).toBe('d');
    expect(optionalEnv('A', 'd', { A: 'v' })).toBe('v');
  });
  it('errorMessage narrows unknown throwables', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage({ code: 1 })).toBe('{"code":1}');
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line with the base fields', () => {
    const lines: string[] = [];
    createLogger({ env: 'dev' }, (l) => lines.push(l)).info('hello', { n: 1 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', message: 'hello', env: 'dev', n: 1 });
  });
});
