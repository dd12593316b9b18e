#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/config';
import { createStacks } from '../lib/create-stacks';

const app = new App();
try {
  createStacks(app, loadConfig(app.node.tryGetContext('env') as string | undefined));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
