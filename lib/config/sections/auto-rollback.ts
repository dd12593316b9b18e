import { z } from 'zod';
import {
  DEFAULT_TRIGGERS,
  DEFAULT_WATCH_HOURS,
  TRIGGER_CLASSES,
} from '../../../lambda/shared/auto-rollback-policy';

/**
 * `routing.autoRollback`: which failures take green out of traffic, and for how long after green's last
 * increase the automatic rollback stays armed (lambda/shared/auto-rollback-policy.ts; README "Automatic
 * rollback").
 */
export const autoRollbackSchema = z.strictObject({
  /**
   * Trigger classes. Each alarm of a class is its own event source (matched by exact name). Blue's alarms
   * and the database's health are never triggers: they close the gates for an increase instead.
   * @default every class: green-error-rate, green-latency, green-tasks-below-desired,
   * green-no-healthy-target, rows-lost, append-only, below-floor, schema, parity
   */
  triggers: z
    .array(
      z.enum(TRIGGER_CLASSES, {
        error: () => `a trigger class: ${TRIGGER_CLASSES.join(', ')}`,
      }),
    )
    .min(1, 'at least one trigger class (green-error-rate is the least an automatic rollback watches)')
    .refine((t) => new Set(t).size === t.length, 'each trigger class once')
    .default([...DEFAULT_TRIGGERS]),
  /**
   * Hours after green's last increase during which a trigger moves traffic to 100% blue (besides any time a
   * shift or plan holds the traffic lease). Outside it a trigger pages and traffic stays. 0: only during a
   * shift or plan. @default 24
   */
  watchHours: z
    .number()
    .min(0, 'a number of hours from 0 to 168')
    .max(168, 'a number of hours from 0 to 168 (one week)')
    .default(DEFAULT_WATCH_HOURS),
});

export type AutoRollbackConfig = z.output<typeof autoRollbackSchema>;
