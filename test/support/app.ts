import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig, type EnvironmentConfig } from '../../lib/config';
import { createStacks, type EnvironmentStacks } from '../../lib/create-stacks';

export interface SynthResult {
  readonly app: App;
  readonly config: EnvironmentConfig;
  readonly stacks: EnvironmentStacks;
  readonly stateful: Template;
  readonly guardrails: Template;
}

/**
 * Builds an environment with the same factory as bin/app.ts. Lambda bundling is skipped (it is exercised
 * by `npm run synth`), which keeps the CDK tests fast; everything else, cdk-nag included, runs as in synth.
 */
export function synthEnvironment(configOrName: EnvironmentConfig | string): SynthResult {
  const config = typeof configOrName === 'string' ? loadConfig(configOrName) : configOrName;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = createStacks(app, config);
  app.synth();
  return {
    app,
    config,
    stacks,
    stateful: Template.fromStack(stacks.stateful),
    guardrails: Template.fromStack(stacks.guardrails),
  };
}

/** A deep copy of an environment's raw config, for tests that break one field. */
export function cloneRaw<T>(raw: T): T {
  return structuredClone(raw);
}

/** Replaces asset hashes and other build-dependent values so stack snapshots are stable. */
export function scrubTemplate(template: Template): unknown {
  const json = JSON.stringify(template.toJSON());
  return JSON.parse(json.replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '[ASSET_HASH]$1'));
}
