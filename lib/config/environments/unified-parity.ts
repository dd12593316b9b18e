import type { z } from 'zod';
import type { parityPairSchema } from '../sections/parity';

type ParityPairInput = z.input<typeof parityPairSchema>;

/**
 * The blue-vs-green output parity pairs every environment runs during the parallel run. Assumes green (the
 * unified pipeline) writes its output to schema `unified`; the checks' read-only role needs SELECT on both
 * schemas. What differs per environment (how often, how loud, how far back `games` looks) is a parameter.
 */
export function unifiedParityPairs(opts: {
  readonly scheduleMinutes: number;
  readonly severity: 'warning' | 'critical';
  /** Compare only the games that tipped off in the last N hours (what both pipelines processed). */
  readonly gamesWindowHours?: number;
}): ParityPairInput[] {
  const common = { scheduleMinutes: opts.scheduleMinutes, maxDifferences: 0, severity: opts.severity };
  return [
    {
      name: 'box-score-players',
      blue: { table: 'box_score_players' },
      green: { schemaName: 'unified', table: 'box_score_players' },
      // Business key: the surrogate id and the load times differ between the pipelines.
      key: ['game_id', 'player_id'],
      exclude: ['id', 'created_at', 'updated_at'],
      ...common,
    },
    {
      name: 'games',
      blue: { table: 'games' },
      green: { schemaName: 'unified', table: 'games' },
      key: ['game_id'],
      exclude: ['created_at', 'updated_at'],
      ...(opts.gamesWindowHours === undefined
        ? {}
        : { window: { column: 'tipoff_utc', hours: opts.gamesWindowHours } }),
      ...common,
    },
  ];
}
