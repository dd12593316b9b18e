/**
 * `npm run synth [-- dev staging]`: synthesizes every environment, or the named ones (Lambda bundling by the
 * local esbuild, cdk-nag included) into cdk.out/<env>/, in one process so module loading and identical
 * bundles are shared, and prints every warning the constructs annotate (as `npx cdk synth` does). Needs no
 * AWS credentials and no network. `npx cdk synth -c env=<name>` does the same for one environment through
 * the CDK CLI and cdk.json (CI runs that too).
 */
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../lib/config';
import { createStacks } from '../lib/create-stacks';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../lib/project';

/** One annotation of a synthesized stack: what `cdk synth` prints as WARNING/ERROR/INFO. */
export interface SynthMessage {
  readonly level: 'info' | 'warning' | 'error';
  /** Construct path, e.g. /PipelineGuardrails-dev-Guardrails/Routing. */
  readonly path: string;
  readonly message: string;
  /** The id that acknowledges a warning (`Annotations.of(scope).acknowledgeWarning(id)`), when it has one. */
  readonly ackId?: string;
}

export interface SynthTiming {
  readonly env: string;
  readonly seconds: number;
  readonly outdir: string;
  readonly messages: readonly SynthMessage[];
}

/** Exit codes of `npm run synth`, as its usage and the README's table give them. */
export const SYNTH_EXIT_CODES: readonly (readonly [number, string])[] = [
  [0, 'every named environment synthesized (warnings, if any, printed)'],
  [1, 'an invalid configuration (environment, field, value and rule named) or an error annotation (cdk-nag)'],
  [2, 'bad arguments (an unknown environment, or an option: environments are named as words)'],
];

/** A bad `npm run synth` command line, answered in that command's syntax. */
export class SynthUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SynthUsageError';
  }
}

export const SYNTH_USAGE = `Usage: npm run synth [-- ENV ...]     ENV: ${ENVIRONMENT_NAMES.join(', ')} (default: all of them)
  e.g. npm run synth -- prod       (one environment through the CDK CLI: npx cdk synth -c env=prod)
Exit codes:
${SYNTH_EXIT_CODES.map(([c, m]) => `  ${c}  ${m}`).join('\n')}`;

/** The environments named on `npm run synth -- ...`: words only, each known, in the order given, once. */
export function parseSynthArgs(argv: readonly string[]): EnvironmentName[] {
  const envs: EnvironmentName[] = [];
  for (const [i, a] of argv.entries()) {
    if (a.startsWith('-')) {
      // `--env prod` and `-c env=prod` are other tools' syntax: name the environment as a word here.
      const next = argv[i + 1];
      const guess =
        a.startsWith('-c') || a.startsWith('--context') ? /env=(\w+)/.exec(`${a} ${next ?? ''}`)?.[1] : next;
      const example = guess && !guess.startsWith('-') ? guess : 'prod';
      throw new SynthUsageError(
        `npm run synth takes environment names, not options: got ${JSON.stringify(a)}; write npm run synth -- ${example}`,
      );
    }
    if (!(ENVIRONMENT_NAMES as readonly string[]).includes(a)) {
      throw new SynthUsageError(
        `npm run synth: got ${JSON.stringify(a)}, expected environment names from ${ENVIRONMENT_NAMES.join(', ')}`,
      );
    }
    if (!envs.includes(a as EnvironmentName)) envs.push(a as EnvironmentName);
  }
  return envs.length > 0 ? envs : [...ENVIRONMENT_NAMES];
}

const ACK = / \[ack: ([^\]]+)\]$/;

/** Every annotation of every stack in the assembly, as the CDK CLI reads them from the manifest. */
export function messagesOf(assembly: CloudAssembly): SynthMessage[] {
  const out: SynthMessage[] = [];
  for (const stack of assembly.stacks) {
    for (const m of stack.messages) {
      const text = typeof m.entry.data === 'string' ? m.entry.data : JSON.stringify(m.entry.data);
      const ack = ACK.exec(text);
      out.push({
        level: m.level as SynthMessage['level'],
        path: m.id,
        message: ack ? text.slice(0, ack.index) : text,
        ...(ack?.[1] ? { ackId: ack[1] } : {}),
      });
    }
  }
  return out;
}

const ROOT = path.join(__dirname, '..');

/**
 * The context the CDK CLI gives the app: cdk.json's `context` (the feature flags) and cdk.context.json (cached
 * values). Without it the templates would differ from what `npx cdk deploy` deploys.
 */
export function cdkCliContext(root = ROOT): Record<string, unknown> {
  const read = (file: string): Record<string, unknown> => {
    const p = path.join(root, file);
    return fs.existsSync(p) ? (JSON.parse(fs.readFileSync(p, 'utf8')) as Record<string, unknown>) : {};
  };
  return { ...read('cdk.context.json'), ...((read('cdk.json').context as Record<string, unknown>) ?? {}) };
}

/** Synthesizes the named environments into `<outRoot>/<env>`; throws on invalid config or cdk-nag findings. */
export function synthEnvironments(
  outRoot: string,
  envs: readonly string[] = ENVIRONMENT_NAMES,
): SynthTiming[] {
  return envs.map((env) => {
    const started = process.hrtime.bigint();
    const outdir = path.join(outRoot, env);
    const app = new App({ outdir, context: { ...cdkCliContext(), env } });
    createStacks(app, loadConfig(env));
    const assembly = app.synth();
    return {
      env,
      outdir,
      messages: messagesOf(assembly),
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  });
}

/** How `npm run synth` prints an annotation: level, environment, construct path, message, how to accept it. */
export function formatMessage(env: string, m: SynthMessage): string {
  const lines = [`${m.level.toUpperCase()} [${env}] ${m.path}: ${m.message}`];
  if (m.ackId) lines.push(`  (acknowledge in code: Annotations.of(scope).acknowledgeWarning('${m.ackId}'))`);
  return lines.join('\n');
}

/** The whole `npm run synth` run; resolves to its exit code (0 ok, 1 invalid config or synth error, 2 usage). */
export function runSynth(
  argv: readonly string[],
  out: { stdout: (t: string) => void; stderr: (t: string) => void },
  outRoot = path.join(ROOT, 'cdk.out'),
  synth: typeof synthEnvironments = synthEnvironments,
): number {
  let envs: EnvironmentName[];
  try {
    envs = parseSynthArgs(argv);
  } catch (err) {
    if (!(err instanceof SynthUsageError)) throw err;
    out.stderr(`error: ${err.message}\n\n${SYNTH_USAGE}\n`);
    return 2;
  }
  const started = process.hrtime.bigint();
  let errors = 0;
  for (const env of envs) {
    let t: SynthTiming;
    try {
      [t] = synth(outRoot, [env]) as [SynthTiming];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      out.stderr(`synth ${env}: ${err.message}\n`);
      return 1;
    }
    for (const m of t.messages) (m.level === 'info' ? out.stdout : out.stderr)(`${formatMessage(env, m)}\n`);
    errors += t.messages.filter((m) => m.level === 'error').length;
    const warnings = t.messages.filter((m) => m.level === 'warning').length;
    out.stdout(
      `synth ${env}: ${errors > 0 ? 'FAILED' : 'ok'} in ${t.seconds.toFixed(1)} s -> ${path.relative(process.cwd(), t.outdir)}` +
        `${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'} above)` : ''}\n`,
    );
  }
  out.stdout(
    `${envs.length === ENVIRONMENT_NAMES.length ? 'all environments' : envs.join(', ')}: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s\n`,
  );
  return errors > 0 ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = runSynth(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  });
}
