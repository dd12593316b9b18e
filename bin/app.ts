#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/config';
import { conflictingEnvContext } from '../lib/config/env-context';
import { createStacks } from '../lib/create-stacks';

const app = new App();
const conflict = conflictingEnvContext(process.ppid);
if (conflict) {
  console.error(
    `two environments given (${conflict.map((e) => `-c env=${e}`).join(' ')}); the CDK CLI would keep only the last one. Give one: -c env=<name>`,
  );
  process.exit(1);
}
try {
  createStacks(app, loadConfig(app.node.tryGetContext('env') as string | undefined));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
