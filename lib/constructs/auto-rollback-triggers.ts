import type { EnvironmentConfig } from '../config';
import { resourcePrefix } from '../project';
import type { TriggerAlarm, TriggerClass } from '../../lambda/shared/auto-rollback-policy';
import { tableSlug } from './data-checks';

/**
 * The alarms of an environment that take green out of traffic, by exact name and class, from its config
 * (`routing.autoRollback.triggers`). The names are those the alarm factory gives (`<prefix>-<area>-<what>`);
 * AutoRollback refuses to synthesize if one of them is not an alarm of the stack, so this list cannot drift
 * from the constructs that create the alarms.
 *
 * Never a trigger: blue's alarms, the database's health, the checker's own health, freshness, custom checks,
 * snapshots, the composite `critical-any`. They page, and the gates refuse increases while they are in ALARM.
 */
export function autoRollbackTriggers(config: EnvironmentConfig): TriggerAlarm[] {
  const prefix = resourcePrefix(config.envName);
  const enabled = new Set<TriggerClass>(config.routing.autoRollback.triggers);
  const out: TriggerAlarm[] = [];
  const add = (triggerClass: TriggerClass, what: string) => {
    if (enabled.has(triggerClass)) out.push({ alarmName: `${prefix}-${what}`, triggerClass });
  };
  add('green-error-rate', 'routing-green-error-rate');
  add('green-latency', 'routing-green-latency-p95');
  add('green-tasks-below-desired', 'routing-green-unhealthy-hosts');
  // The warning-severity healthy-tasks alarm exists only when green runs more than one task.
  if (config.routing.green.desiredCount > 1)
    add('green-tasks-below-desired', 'service-green-healthy-tasks-warning');
  add('green-no-healthy-target', 'service-green-healthy-tasks-critical');
  for (const t of config.checks.tables) {
    const slug = tableSlug(t.schemaName, t.table);
    // One alarm for both rules (one page per loss): a trigger when either class is enabled for the table.
    if (t.noDecrease || t.appendOnly) {
      const cls: TriggerClass | undefined =
        t.noDecrease && enabled.has('rows-lost')
          ? 'rows-lost'
          : t.appendOnly && enabled.has('append-only')
            ? 'append-only'
            : undefined;
      if (cls) add(cls, `checks-rows-lost-${slug}`);
    }
    if (t.minRows !== undefined) add('below-floor', `checks-below-floor-${slug}`);
    if (t.trackSchema) add('schema', `checks-schema-changed-${slug}`);
  }
  for (const pair of config.parity) add('parity', `parity-differences-${pair.name}`);
  return out;
}
