#!/usr/bin/env node
// `npx pipeline-guardrails <command> ...`: runs the TypeScript CLI through tsx (a runtime dependency).
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const tsx = require.resolve('tsx/cli');
const main = path.join(__dirname, '..', 'cli', 'main.ts');
const result = spawnSync(process.execPath, [tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status === null ? 2 : result.status);
