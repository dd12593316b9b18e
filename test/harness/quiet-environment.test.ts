import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

describe('test output is quiet unless a test fails', () => {
  it("drops a passing test's stdout lines and shows a failing test's, under its name", () => {
    const config = {
      rootDir: root,
      roots: ['<rootDir>/test/setup/fixtures'],
      testMatch: ['**/quiet.fixture.ts'],
      testEnvironment: '<rootDir>/test/setup/quiet-environment.cjs',
      transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' } } }] },
    };
    const r = spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--config', JSON.stringify(config), '--ci', '--runInBand'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PIPELINE_GUARDRAILS_TEST_LOGS: '' },
      },
    );
    const output = r.stdout + r.stderr;
    expect(r.status).toBe(1);
    expect(output).toContain('--- stdout of fails after logging (held back because it failed) ---');
    expect(output).toContain('from the failing test');
    expect(output).not.toContain('from the passing test');
    expect(output).not.toContain('Bundling asset Passing');
    expect(output).toContain('a warning the test run should show');
  });
});
