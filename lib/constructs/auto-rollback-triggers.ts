import type { EnvironmentConfig } from '../config';
import { alarmName } from '../project';
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
  const enabled = new Set<TriggerClass>(config.routing.autoRollback.triggers);
  const out: TriggerAlarm[] = [];
  const add = (triggerClass: TriggerClass, area: string, what: string) => {
    if (enabled.has(triggerClass))
      out.push({ alarmName: alarmName(config.envName, area, what), triggerClass });
  };
  add('green-error-rate', 'routing', 'green-error-rate');
  add('green-latency', 'routing', 'green-latency-p95');
  add('green-tasks-below-desired', 'routing', 'green-unhealthy-hosts');
  // The warning-severity healthy-tasks alarm exists only when green runs more than one task.
  if (config.routing.green.desiredCount > 1)
    add('green-tasks-below-desired', 'service', 'green-healthy-tasks-warning');
  add('green-no-healthy-target', 'service', 'green-healthy-tasks-critical');
  // One rows-lost alarm covers every guarded table (one page per loss; see DataChecks): a trigger when the class
  // of any guarded table is enabled. A second loss while it is still in ALARM sends no new event, but it never
  // needs to: green rises only with the data checks clean (the gate), so while armed with green in traffic the
  // alarm was OK at the last increase and the first loss since then is an event that takes green out.
  const guarded = config.checks.tables.filter((t) => t.noDecrease || t.appendOnly);
  const lossClass: TriggerClass | undefined =
    guarded.some((t) => t.noDecrease) && enabled.has('rows-lost')
      ? 'rows-lost'
      : guarded.some((t) => t.appendOnly) && enabled.has('append-only')
        ? 'append-only'
        : undefined;
  if (lossClass) add(lossClass, 'checks', 'rows-lost');
  for (const t of config.checks.tables) {
    if (t.minRows !== undefined)
      add('below-floor', 'checks', `below-floor-${tableSlug(t.schemaName, t.table)}`);
  }
  // Likewise one schema-changed alarm for every tracked table.
  if (config.checks.tables.some((t) => t.trackSchema)) add('schema', 'checks', 'schema-changed');
  for (const pair of config.parity) add('parity', 'parity', `differences-${pair.name}`);
  return out;
}
