import { z } from 'zod';
import { nonNegativeInt, positiveInt, secretArn, sqlIdentifier } from '../rules';

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

/** Name of a custom check: it becomes a metric dimension and part of an alarm name. */
export const CUSTOM_CHECK_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * A read-only SQL query returning one row with one numeric column, and the bounds that number must stay
 * within. For what the built-in rules do not cover (orphan rows, duplicate keys, null ratios, ...).
 * It runs inside the checker's read-only transaction with its statement timeout.
 */
export const customCheckSchema = z
  .strictObject({
    /** kebab-case, unique: `orphan-box-scores`. */
    name: z
      .string()
      .regex(CUSTOM_CHECK_NAME, 'a kebab-case name such as orphan-box-scores (at most 48 characters)')
      .max(48, 'a kebab-case name of at most 48 characters'),
    /** One SELECT (or WITH ... SELECT) statement, no semicolon inside. */
    sql: z
      .string()
      .trim()
      .regex(/^(select|with)\b/i, 'a single SELECT or WITH ... SELECT statement')
      .refine((s) => !s.replace(/;\s*$/, '').includes(';'), 'a single statement (no ";" inside)')
      .refine((s) => s.length <= 4000, 'a statement of at most 4000 characters'),
    /** The value must be >= min. */
    min: z.number().finite('a finite number').optional(),
    /** The value must be <= max. */
    max: z.number().finite('a finite number').optional(),
    /** Severity of the alarm on a violated bound. @default warning */
    severity: z.enum(['critical', 'warning'], { error: () => 'critical or warning' }).default('warning'),
    /** One sentence for the alarm: what a violation means. */
    description: z.string().min(1, 'a non-empty sentence').max(300, 'at most 300 characters'),
  })
  .superRefine((v, ctx) => {
    if (v.min === undefined && v.max === undefined) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: 'min or max (or both)', input: v.min });
    }
    if (v.min !== undefined && v.max !== undefined && v.max < v.min) {
      ctx.addIssue({
        code: 'custom',
        path: ['max'],
        message: `a value >= min (${v.min})`,
        input: v.max,
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
    /**
     * Every configured table is read exactly at least once in this many minutes (the rotating audit), spread
     * over the runs so no run carries all of it. It bounds how late a loss whose statistics never reach the
     * counters (a session that deletes and keeps running) is found. At least scheduleMinutes. @default 60
     */
    exactEveryMinutes: z
      .number()
      .int('an integer from 1 to 10080 (a week)')
      .min(1, 'from 1 to 10080 minutes')
      .max(10080, 'from 1 to 10080 minutes')
      .default(60),
    /**
     * Secret (JSON with username and password) of a read-only role the checker logs in as. Without it the
     * checker uses the database's admin secret, still inside a read-only transaction (synth warns).
     */
    credentialsSecretArn: secretArn().optional(),
    /** Per-statement limit of the checker's queries. @default 30 */
    statementTimeoutSeconds: z
      .number()
      .int('an integer from 1 to 600')
      .min(1, 'from 1 to 600 seconds')
      .max(600, 'from 1 to 600 seconds')
      .default(30),
    /** How long a query may wait for a lock (e.g. behind an ALTER TABLE). @default 5 */
    lockTimeoutSeconds: z
      .number()
      .int('an integer from 1 to 60')
      .min(1, 'from 1 to 60 seconds')
      .max(60, 'from 1 to 60 seconds')
      .default(5),
    /** Tables guarded by the integrity rules. */
    tables: z.array(tableCheckSchema).default([]),
    /** Tables whose newest row must be recent. */
    freshness: z.array(freshnessCheckSchema).default([]),
    /** Read-only SQL checks with bounds. */
    custom: z.array(customCheckSchema).default([]),
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
    const fresh = new Set<string>();
    v.freshness.forEach((f, i) => {
      const key = `${f.schemaName}.${f.table}`;
      if (fresh.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['freshness', i, 'table'],
          message: 'each table listed once in freshness',
          input: f.table,
        });
      }
      fresh.add(key);
    });
    const names = new Set<string>();
    v.custom.forEach((c, i) => {
      if (names.has(c.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['custom', i, 'name'],
          message: 'a name not used by another custom check',
          input: c.name,
        });
      }
      names.add(c.name);
    });
    if (v.exactEveryMinutes < v.scheduleMinutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['exactEveryMinutes'],
        message: `at least scheduleMinutes (${v.scheduleMinutes}): each pass of the audit spans whole runs`,
        input: v.exactEveryMinutes,
      });
    }
    const timeoutBudget = v.scheduleMinutes * 60;
    if (v.statementTimeoutSeconds >= timeoutBudget) {
      ctx.addIssue({
        code: 'custom',
        path: ['statementTimeoutSeconds'],
        message: `less than the schedule interval (${timeoutBudget} s), so runs never overlap`,
        input: v.statementTimeoutSeconds,
      });
    }
  });
