export interface Benchmark {
  /** Runs the benchmark, prints its figures; resolves false when a target was missed. */
  run(flags: string[]): Promise<boolean>;
}

/** Benchmarks by name, loaded on demand. Each capability adds its line. */
export const BENCHMARKS: Record<string, { summary: string; load: () => Promise<Benchmark> }> = {
  synth: {
    summary: 'time and memory to build every environment in one process',
    load: () => import('./synth').then((m) => m.default),
  },
  'data-checks': {
    summary:
      'naive COUNT(*) sweep vs. the checker on seedscale (SCALE=1: ~20M rows, ~5 GB, ~2 min to build once)',
    load: () => import('./data-checks').then((m) => m.default),
  },
  parity: {
    summary:
      'blue-vs-green compare vs. naive EXCEPT ALL and count(*) on seedscale play_by_play and hoopr_play_by_play',
    load: () => import('./parity').then((m) => m.default),
  },
  cost: {
    summary:
      "the guardrails' fixed monthly cost per environment from the synthesized templates (target <= $25)",
    load: () => import('./cost').then((m) => m.default),
  },
  'restore-drill': {
    summary:
      "the drill's verification of a restored copy on seedscale SCALE=1 (built by the data-checks bench)",
    load: () => import('./restore-drill').then((m) => m.default),
  },
  'snapshot-retention': {
    summary: 'retention planning time for 100 to 10,000 snapshots in a region',
    load: () => import('./snapshot-retention').then((m) => m.default),
  },
};
