import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthEnvironments } from '../scripts/synth';
import type { Benchmark } from './index';

/** Target: all three environments, Lambda bundling and cdk-nag included, in well under a minute. */
const TARGET_SECONDS = 60;

const bench: Benchmark = {
  async run() {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
    const t0 = process.hrtime.bigint();
    try {
      for (const t of synthEnvironments(out)) console.log(`  ${t.env.padEnd(8)} ${t.seconds.toFixed(2)} s`);
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
