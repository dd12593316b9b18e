import { z } from 'zod';
import { nonNegativeInt, positiveInt, sqlIdentifier } from '../rules';

/** Integrity rules for one table. See README "Config reference". */
export const tableCheckSchema = z.strictObject({
  /** PostgreSQL schema of the table. @default public */
  schemaName: sqlIdentifier().default('public'),
  /** Table name (validated identifier; always quoted in SQL). */
  table: sqlIdentifier(),
  /** The row count may never drop below this floor. */
  minRows: nonNegativeInt('an integer row count >= 0').optional(),
  /** Any drop between two consecutive runs is data loss. @default true */
  noDecrease: z.boolean().default(true),
  /** Any DELETE or TRUNCATE is a violation. @default false */
  appendOnly: z.boolean().default(false),
  /** Columns and primary key must match the baseline fingerprint. @default true */
  trackSchema: z.boolean().default(true),
});

/** Freshness rule: the newest value of `column` must be recent. */
export const freshnessCheckSchema = z
  .strictObject({
    schemaName: sqlIdentifier().default('public'),
    table: sqlIdentifier(),
    /** A timestamp column; index it, or MAX() scans the table. */
    column: sqlIdentifier(),
    /** Age at which the warning alarm fires. */
    warnAfterMinutes: positiveInt('a positive number of minutes'),
    /** Age at which the critical alarm fires; must be greater than warnAfterMinutes. */
    errorAfterMinutes: positiveInt('a positive number of minutes'),
  })
  .superRefine((v, ctx) => {
    if (v.errorAfterMinutes <= v.warnAfterMinutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['errorAfterMinutes'],
        message: `a value greater than warnAfterMinutes (${v.warnAfterMinutes})`,
        input: v.errorAfterMinutes,
      });
    }
  });

export const checksSchema = z
  .strictObject({
    /** Minutes between runs of the scheduled checker. @default 5 */
    scheduleMinutes: z
      .number()
      .int('an integer from 1 to 1440')
      .min(1, 'from 1 to 1440 minutes')
      .max(1440)
      .default(5),
    /** Tables guarded by the integrity rules. */
    tables: z.array(tableCheckSchema).default([]),
    /** Tables whose newest row must be recent. */
    freshness: z.array(freshnessCheckSchema).default([]),
  })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.tables.forEach((t, i) => {
      const key = `${t.schemaName}.${t.table}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tables', i, 'table'],
          message: 'each table listed once',
          input: t.table,
        });
      }
      seen.add(key);
    });
  });
