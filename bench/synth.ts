import { App } from 'aws-cdk-lib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../lib/config';
import { createStacks } from '../lib/create-stacks';
import { ENVIRONMENT_NAMES } from '../lib/project';
import type { Benchmark } from './index';

/** Target: all three environments, Lambda bundling included, in well under a minute. */
const TARGET_SECONDS = 60;

const bench: Benchmark = {
  async run() {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
    const t0 = process.hrtime.bigint();
    try {
      for (const env of ENVIRONMENT_NAMES) {
        const t = process.hrtime.bigint();
        const app = new App({ outdir: path.join(out, env) });
        createStacks(app, loadConfig(env));
        app.synth();
        console.log(`  ${env.padEnd(8)} ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(2)} s`);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rssMiB = process.memoryUsage().rss / 2 ** 20;
    console.log(
      `  total    ${seconds.toFixed(2)} s (target < ${TARGET_SECONDS} s), rss ${rssMiB.toFixed(0)} MiB`,
    );
    return seconds < TARGET_SECONDS;
  },
};
export default bench;
