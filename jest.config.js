/** @type {import('jest').Config} */
module.exports = {
  // Node's environment; what code writes to stdout (JSON log lines) is shown only for a failing test.
  testEnvironment: '<rootDir>/test/setup/quiet-environment.cjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  // A throwaway PostgreSQL for the whole run; see test/setup/.
  // Node 20 polyfills the ASL interpreter (aws-local-stepfunctions) needs; the Node.js decision.
  setupFiles: ['<rootDir>/test/setup/polyfills.ts', '<rootDir>/test/setup/node-support.ts'],
  globalSetup: '<rootDir>/test/setup/global-setup.mjs',
  globalTeardown: '<rootDir>/test/setup/global-teardown.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
};
