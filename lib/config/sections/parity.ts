import { z } from 'zod';
import { nonNegativeInt, sqlIdentifier } from '../rules';

/**
 * Blue-vs-green output parity: pairs of relations (the monolith's output and the unified pipeline's) that
 * must hold the same rows. Assumes that during the parallel run green writes its output to its own schema
 * (or tables) on the same PostgreSQL, e.g. `unified.box_score_players` beside `public.box_score_players`.
 * See README "Output parity".
 */

/** Name of a pair: a metric dimension and part of alarm names. */
export const PARITY_PAIR_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The Lambda's own limit; a run issues a few long statements (two concurrent aggregates, one join diff). */
export const PARITY_FUNCTION_TIMEOUT_SECONDS = 900;

const relationSchema = z.strictObject({
  /** @default public */
  schemaName: sqlIdentifier().default('public'),
  table: sqlIdentifier(),
});

export const parityPairSchema = z
  .strictObject({
    /** kebab-case, unique: `box-scores`. */
    name: z
      .string()
      .regex(PARITY_PAIR_NAME, 'a kebab-case name such as box-scores (at most 40 characters)')
      .max(40, 'a kebab-case name of at most 40 characters'),
    /** The monolith's output. */
    blue: relationSchema,
    /** The unified pipeline's output (its own schema or table during the parallel run). */
    green: relationSchema,
    /** Business key columns: unique in the data, the same on both sides. */
    key: z.array(sqlIdentifier()).min(1, 'at least one key column'),
    /** Columns not compared (load times, surrogate ids, run ids). @default [] */
    exclude: z.array(sqlIdentifier()).default([]),
    /** Compare only the last `hours` hours of `column` (what both pipelines processed). */
    window: z
      .strictObject({
        column: sqlIdentifier(),
        hours: z
          .number()
          .int('an integer from 1 to 720 hours')
          .min(1, 'from 1 to 720 hours')
          .max(720, 'from 1 to 720 hours'),
        /** How long one side may trail the other before its missing rows count. @default 10 */
        settleMinutes: z
          .number()
          .int('an integer from 0 to 120 minutes')
          .min(0, 'from 0 to 120 minutes')
          .max(120, 'from 0 to 120 minutes')
          .default(10),
      })
      .optional(),
    /** Absolute tolerance per numeric column: |blue - green| <= tolerance is equal. @default {} */
    tolerance: z
      .record(sqlIdentifier(), z.number().finite('a finite number').min(0, 'a number >= 0'))
      .default({}),
    /** Minutes between scheduled runs. @default 60 (the migration plan compares every hour) */
    scheduleMinutes: z
      .number()
      .int('an integer from 15 to 1440 minutes')
      .min(15, 'from 15 to 1440 minutes (a run may take up to 15 minutes)')
      .max(1440, 'from 15 to 1440 minutes')
      .default(60),
    /** Differences allowed (only in blue + only in green + changed + duplicate and NULL keys). 0: a 100% match. @default 0 */
    maxDifferences: nonNegativeInt('an integer >= 0 (0 means a 100% match)').default(0),
    /** Severity of the alarm on too many differences. @default critical */
    severity: z.enum(['critical', 'warning'], { error: () => 'critical or warning' }).default('critical'),
    /** Oldest result the traffic gates accept. @default max(2 x scheduleMinutes, 30) */
    maxAgeMinutes: z
      .number()
      .int('an integer number of minutes')
      .min(15, 'at least 15 minutes')
      .max(10_080, 'at most 10080 minutes (7 days)')
      .optional(),
    /** Per-statement limit. @default 240 */
    statementTimeoutSeconds: z
      .number()
      .int('an integer from 10 to 280 seconds')
      .min(10, 'from 10 to 280 seconds')
      .max(280, 'from 10 to 280 seconds (three long statements must fit in the 900 s function timeout)')
      .default(240),
    /** `bucket` (measured fastest, see README) or `bisect` (reladiff-style; single integer key). @default bucket */
    algorithm: z.enum(['bucket', 'bisect'], { error: () => 'bucket or bisect' }).default('bucket'),
  })
  .superRefine((p, ctx) => {
    const issue = (path: (string | number)[], message: string, input: unknown) =>
      ctx.addIssue({ code: 'custom', path, message, input });
    if (p.blue.schemaName === p.green.schemaName && p.blue.table === p.green.table) {
      issue(['green', 'table'], 'a relation other than blue', p.green.table);
    }
    if (new Set(p.key).size !== p.key.length) issue(['key'], 'distinct key columns', p.key);
    p.exclude.forEach((x, i) => {
      if (p.key.includes(x)) issue(['exclude', i], 'a column that is not a key column', x);
    });
    for (const col of Object.keys(p.tolerance)) {
      if (p.key.includes(col) || p.exclude.includes(col)) {
        issue(['tolerance', col], 'a compared column (not a key, not excluded)', col);
      }
    }
    if (p.algorithm === 'bisect' && p.key.length !== 1) {
      issue(
        ['algorithm'],
        'bucket when the key has several columns (bisect needs one integer key)',
        p.algorithm,
      );
    }
  });

export const paritySchema = z.array(parityPairSchema).superRefine((pairs, ctx) => {
  const names = new Set<string>();
  pairs.forEach((p, i) => {
    if (names.has(p.name)) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: 'a name not used by another pair',
        input: p.name,
      });
    }
    names.add(p.name);
  });
});

export type ParityPairConfig = z.output<typeof parityPairSchema>;

/** Oldest result of a pair the traffic gates accept: the configured age, or two schedules (at least 30 min). */
export function parityMaxAgeMinutes(
  pair: Pick<ParityPairConfig, 'scheduleMinutes' | 'maxAgeMinutes'>,
): number {
  return pair.maxAgeMinutes ?? Math.max(2 * pair.scheduleMinutes, 30);
}
