#!/usr/bin/env node
// `npx pipeline-guardrails <command> ...`: runs the TypeScript CLI through tsx (a runtime dependency).
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const tsx = require.resolve('tsx/cli');
const main = path.join(__dirname, '..', 'cli', 'main.ts');
// Ctrl-C reaches the CLI too (same process group); it decides what it means (a shift releases its lock,
// `status --watch` stops). This wrapper waits for it and passes its exit code on instead of dying first.
process.on('SIGINT', () => undefined);
const result = spawnSync(process.execPath, [tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });
const signal = result.signal ? os.constants.signals[result.signal] : undefined;
process.exit(result.status ?? (signal ? 128 + signal : 2));
