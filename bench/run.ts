/**
 * `npm run bench [-- <name> ...]`: runs the named benchmarks (all when none is named) and prints their
 * figures. Speed and memory targets live here, never in timed unit tests.
 */
import { BENCHMARKS } from './index';

async function run(): Promise<number> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(
      `Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(BENCHMARKS).join(', ')}`,
    );
    return 2;
  }
  let failed = 0;
  for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
    const bench = BENCHMARKS[name]!;
    console.log(`\n=== ${name}: ${bench.summary}`);
    const ok = await (await bench.load()).run(process.argv.slice(2).filter((a) => a.startsWith('-')));
    if (!ok) failed++;
  }
  return failed === 0 ? 0 : 1;
}

run().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
