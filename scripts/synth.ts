/**
 * `npm run synth [-- dev staging]`: synthesizes every environment (Lambda bundling by the local esbuild,
 * cdk-nag included) into cdk.out/<env>/, in one process so module loading and identical bundles are shared.
 * Needs no AWS credentials and no network. `npx cdk synth -c env=<name>` does the same for one environment
 * through the CDK CLI and cdk.json (CI runs that too).
 */
import { App } from 'aws-cdk-lib';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../lib/config';
import { createStacks } from '../lib/create-stacks';
import { ENVIRONMENT_NAMES } from '../lib/project';

export interface SynthTiming {
  readonly env: string;
  readonly seconds: number;
  readonly outdir: string;
}

/** Synthesizes the named environments into `<outRoot>/<env>`; throws on invalid config or cdk-nag findings. */
export function synthEnvironments(
  outRoot: string,
  envs: readonly string[] = ENVIRONMENT_NAMES,
): SynthTiming[] {
  return envs.map((env) => {
    const started = process.hrtime.bigint();
    const outdir = path.join(outRoot, env);
    const app = new App({ outdir, context: { env } });
    createStacks(app, loadConfig(env));
    app.synth();
    return { env, outdir, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  });
}

if (require.main === module) {
  const started = process.hrtime.bigint();
  const envs = process.argv.slice(2);
  try {
    for (const t of synthEnvironments(
      path.join(__dirname, '..', 'cdk.out'),
      envs.length > 0 ? envs : undefined,
    )) {
      console.log(
        `synth ${t.env}: ok in ${t.seconds.toFixed(1)} s -> ${path.relative(process.cwd(), t.outdir)}`,
      );
    }
    console.log(`all environments: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exitCode = 1;
  }
}
