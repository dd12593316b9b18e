import type { z } from 'zod';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../project';
import { devConfig } from './environments/dev';
import { prodConfig } from './environments/prod';
import { stagingConfig } from './environments/staging';
import { environmentConfigSchema, type EnvironmentConfig, type EnvironmentConfigInput } from './schema';

const ENVIRONMENTS: Record<EnvironmentName, EnvironmentConfigInput> = {
  dev: devConfig,
  staging: stagingConfig,
  prod: prodConfig,
};

/** Thrown when an environment's configuration is invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(
    readonly envName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `Invalid configuration for environment "${envName}" (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export function isEnvironmentName(name: string): name is EnvironmentName {
  return (ENVIRONMENT_NAMES as readonly string[]).includes(name);
}

/** The raw (unvalidated) configuration object of a known environment. */
export function rawConfig(envName: string): EnvironmentConfigInput {
  if (!isEnvironmentName(envName)) {
    throw new ConfigError(envName, [
      `env: got ${JSON.stringify(envName)}, expected one of ${ENVIRONMENT_NAMES.join(', ')} (pass -c env=<name>)`,
    ]);
  }
  return ENVIRONMENTS[envName];
}

/** Loads and validates a known environment's configuration. */
export function loadConfig(envName: string | undefined): EnvironmentConfig {
  if (envName === undefined || envName === '') {
    throw new ConfigError('(none)', [
      `env: no environment given, expected one of ${ENVIRONMENT_NAMES.join(', ')} (pass -c env=<name>)`,
    ]);
  }
  return validateConfig(envName, rawConfig(envName));
}

/** Validates any object as the configuration of `envName`; throws a ConfigError naming every problem. */
export function validateConfig(envName: string, raw: unknown): EnvironmentConfig {
  const result = environmentConfigSchema.safeParse(raw, { reportInput: true });
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(describeIssue(raw, issue));
  } else if (result.data.envName !== envName) {
    problems.push(
      `envName: got ${JSON.stringify(result.data.envName)}, expected ${JSON.stringify(envName)} (the name it is loaded as)`,
    );
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(envName, problems);
  return result.data;
}

function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string {
  // A discriminated union names the bad discriminator field, not the whole object.
  const discriminator =
    issue.code === 'invalid_union' && 'discriminator' in issue ? issue.discriminator : undefined;
  if (typeof discriminator === 'string') {
    const at =
      issue.path[issue.path.length - 1] === discriminator ? issue.path : [...issue.path, discriminator];
    return `${formatPath(at)}: got ${JSON.stringify(valueAt(raw, at)) ?? 'nothing (missing)'}, expected ${issue.message}`;
  }
  const path = formatPath(issue.path);
  const value = 'input' in issue && issue.input !== undefined ? issue.input : valueAt(raw, issue.path);
  const got = value === undefined ? 'nothing (missing)' : JSON.stringify(value);
  let expected = issue.message;
  if (issue.code === 'unrecognized_keys') {
    return `${path || '(root)'}: unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}, expected only documented fields`;
  }
  if (issue.code === 'invalid_type' && value === undefined)
    expected = `a value (field is required): ${expected}`;
  if (issue.code === 'invalid_union' && value !== undefined) expected = issue.message;
  return `${path || '(root)'}: got ${got}, expected ${expected.replace(/^Invalid input: /, '')}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
