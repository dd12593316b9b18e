// Synthesizes every environment with the CDK CLI, offline: no credentials, no version check, no notices.
// Templates land in cdk.out/<env>/. Usage: npm run synth [-- dev staging]
import { spawn } from 'node:child_process';

const ALL = ['dev', 'staging', 'prod'];
const envs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL;
const started = Date.now();

function synth(env) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('npx', ['cdk', 'synth', '--quiet', '-c', `env=${env}`, '-o', `cdk.out/${env}`], {
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ env, code, output, seconds: (Date.now() - t0) / 1000 }));
  });
}

const results = [];
// Two at a time: the machines here have two cores.
for (let i = 0; i < envs.length; i += 2)
  results.push(...(await Promise.all(envs.slice(i, i + 2).map(synth))));
let failed = false;
for (const r of results) {
  if (r.code !== 0) {
    failed = true;
    console.error(`synth ${r.env}: FAILED (exit ${r.code})\n${r.output}`);
  } else {
    console.log(`synth ${r.env}: ok in ${r.seconds.toFixed(1)} s -> cdk.out/${r.env}`);
  }
}
console.log(`all environments: ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
