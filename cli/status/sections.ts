/**
 * `status`: one section per guardrail, each read and judged on its own, so one that cannot be read (or is not
 * built, or not configured) never hides the others. Reading is here; printing is cli/commands/status.ts.
 */
import {
  DescribeAlarmsCommand,
  type CloudWatchClient,
  type DescribeAlarmsCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBSnapshotsCommand, type DBSnapshot, type RDSClient } from '@aws-sdk/client-rds';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EnvironmentConfig } from '../../lib/config';
import { snapshotIntervalMinutes } from '../../lib/config/sections/snapshots';
import {
  checksMaxAgeMinutes,
  judgeChecksSummary,
  readChecksSummary,
} from '../../lambda/shared/checks-summary';
import { ACTIVE_PLAN_STATUSES, describeActivePlan } from '../../lambda/shared/rollout-control';
import { LOCK_KEY, type LockHolder } from '../../lambda/shared/shift-audit';
import { formatWeights, inspectTraffic, readWeightsIntent } from '../../lambda/shared/traffic';
import { isManagedSnapshot } from '../../lambda/snapshots/naming';
import { alarmNamePrefix, DEPLOYMENT_KEYS } from '../../lib/project';
import type { Deployment } from '../deployed';
import { describeFailure } from '../errors';
import { formatDurationMs } from '../io';
import {
  readAutoRollbackArming,
  readParity,
  readRestoreDrill,
  type AdapterContext,
  type Availability,
} from './adapters';

/** How a guardrail stands: fine, needs a person, could not be read, or does not exist (yet / here). */
export type Level = 'ok' | 'attention' | 'unknown' | 'not-available';

export type SectionId =
  | 'checks'
  | 'snapshot'
  | 'restore-drill'
  | 'parity'
  | 'weights'
  | 'lease'
  | 'plan'
  | 'auto-rollback'
  | 'alarms';

export interface Section {
  readonly id: SectionId;
  readonly title: string;
  readonly level: Level;
  /** One line for the screen. */
  readonly summary: string;
  /** Further lines (problems, alarms). */
  readonly details?: readonly string[];
  /** The values behind the summary, for --json. */
  readonly data?: unknown;
}

export interface StatusDeps {
  readonly ssm: SSMClient;
  readonly doc: DynamoDBDocumentClient;
  readonly cloudwatch: CloudWatchClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly rds: RDSClient;
  readonly sfn: SFNClient;
  /** `sleep` resolves early when `signal` aborts (Ctrl-C during --watch). */
  readonly clock: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> };
}

interface Ctx extends AdapterContext {
  readonly config: EnvironmentConfig;
}

const ago = (nowMs: number, iso: string | Date | undefined) => {
  const t = iso instanceof Date ? iso.getTime() : iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t)
    ? 'at an unknown time'
    : `${formatDurationMs(Math.max(0, Math.floor((nowMs - t) / 60_000) * 60_000)) || '0m'} ago`;
};

/** A section whose data is missing from the deployment: not configured here, not an error. */
function notConfigured(id: SectionId, title: string, detail: string): Section {
  return { id, title, level: 'not-available', summary: `not configured: ${detail}` };
}

async function checksSection(c: Ctx): Promise<Section> {
  const title = 'data checks';
  if (!c.deployment.has('state/table-name')) return notConfigured('checks', title, 'no state table deployed');
  const summary = await readChecksSummary(c.deps.doc, c.deployment.get('state/table-name'));
  const maxAgeMin = checksMaxAgeMinutes(c.config.checks.scheduleMinutes);
  const j = judgeChecksSummary(summary, c.nowMs, maxAgeMin * 60_000);
  const policy = `every ${c.config.checks.scheduleMinutes}m, stale after ${maxAgeMin}m`;
  if (!j.present) {
    return {
      id: 'checks',
      title,
      level: 'attention',
      summary: `no verdict yet: the checker has not reported (${policy})`,
    };
  }
  const verdict = j.summary.status === 'ok' ? 'ok' : j.summary.status.toUpperCase();
  const age = ago(c.nowMs, j.summary.checkedAt);
  return {
    id: 'checks',
    title,
    level: j.clean && j.fresh ? 'ok' : 'attention',
    summary: `${verdict} ${age}${j.fresh ? '' : ' - STALE: the checker is silent'} (${policy})`,
    details: j.summary.problems,
    data: { ...j.summary, ageMs: j.ageMs, fresh: j.fresh, maxAgeMinutes: maxAgeMin },
  };
}

async function instanceIdentifier(c: Ctx): Promise<string> {
  return c.config.database.mode === 'existing'
    ? c.config.database.instanceIdentifier
    : c.deployment.get('database/instance-identifier');
}

async function snapshotSection(c: Ctx): Promise<Section> {
  const title = 'snapshot';
  const instance = await instanceIdentifier(c);
  const all: DBSnapshot[] = [];
  let Marker: string | undefined;
  do {
    const out = await c.deps.rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instance, SnapshotType: 'manual', Marker }),
    );
    all.push(...(out.DBSnapshots ?? []));
    Marker = out.Marker;
  } while (Marker);
  const ours = all
    .filter((s) =>
      isManagedSnapshot(
        {
          id: s.DBSnapshotIdentifier ?? '',
          tags: Object.fromEntries((s.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
        },
        c.envName,
      ),
    )
    .sort((a, b) => (b.SnapshotCreateTime?.getTime() ?? 0) - (a.SnapshotCreateTime?.getTime() ?? 0));
  const intervalMin = snapshotIntervalMinutes(c.config.snapshots);
  // One missed run is attention, not a tolerance: the schedule's gap plus an hour to take and copy one.
  const maxAgeMs = (intervalMin + 60) * 60_000;
  const newest = ours[0];
  const available = ours.find((s) => s.Status === 'available');
  if (!newest) {
    return {
      id: 'snapshot',
      title,
      level: 'attention',
      summary: `none of this tool's snapshots of ${instance} found`,
    };
  }
  const describe = (s: DBSnapshot) =>
    `${s.DBSnapshotIdentifier} ${s.Status}, ${ago(c.nowMs, s.SnapshotCreateTime)}`;
  const availableAge = available?.SnapshotCreateTime
    ? c.nowMs - available.SnapshotCreateTime.getTime()
    : Infinity;
  const failed = newest.Status === 'failed' || newest.Status === 'incompatible-restore';
  const problems: string[] = [];
  if (failed) problems.push(`the newest snapshot ${newest.DBSnapshotIdentifier} is ${newest.Status}`);
  if (availableAge > maxAgeMs) {
    problems.push(
      available
        ? `the newest available one is older than the schedule allows (${formatDurationMs(maxAgeMs)})`
        : 'no snapshot is available',
    );
  }
  return {
    id: 'snapshot',
    title,
    level: problems.length > 0 ? 'attention' : 'ok',
    summary:
      newest === available || !available
        ? describe(newest)
        : `${describe(available)}; newest ${describe(newest)}`,
    details: problems,
    data: {
      instance,
      newest: {
        id: newest.DBSnapshotIdentifier,
        status: newest.Status,
        createdAt: newest.SnapshotCreateTime,
      },
      newestAvailable: available
        ? { id: available.DBSnapshotIdentifier, createdAt: available.SnapshotCreateTime }
        : null,
      maxAgeMinutes: maxAgeMs / 60_000,
    },
  };
}

/** A section from an adapter: "not available" (with why) until the capability publishes its data. */
async function adapterSection<T>(
  id: SectionId,
  title: string,
  read: () => Promise<Availability<T>>,
  judge: (v: T) => { level: Level; summary: string },
): Promise<Section> {
  const a = await read();
  if (!a.available) {
    const label = {
      'not-built': 'not available',
      'not-configured': 'not configured',
      'no-data': 'no result yet',
    }[a.why];
    return {
      id,
      title,
      level: 'not-available',
      summary: `${label}: ${a.detail}`,
      data: { available: false, why: a.why },
    };
  }
  return { id, title, ...judge(a.value), data: a.value };
}

async function weightsSection(c: Ctx): Promise<Section> {
  const title = 'weights';
  if (!c.deployment.has(DEPLOYMENT_KEYS.listenerArn) || !c.deployment.has(DEPLOYMENT_KEYS.weightedRuleArn))
    return notConfigured('weights', title, 'no weighted routing deployed');
  const target = {
    envName: c.envName,
    listenerArn: c.deployment.get(DEPLOYMENT_KEYS.listenerArn),
    ruleArn: c.deployment.get(DEPLOYMENT_KEYS.weightedRuleArn),
    blueTargetGroupArn: c.deployment.get(DEPLOYMENT_KEYS.blueTargetGroupArn),
    greenTargetGroupArn: c.deployment.get(DEPLOYMENT_KEYS.greenTargetGroupArn),
    stateTableName: c.deployment.get(DEPLOYMENT_KEYS.stateTable),
  };
  const [reading, intent] = await Promise.all([
    inspectTraffic(c.deps.elbv2, target),
    readWeightsIntent(c.deps.doc, target.stateTableName),
  ]);
  if (reading.problems.length > 0 || !reading.weights) {
    return {
      id: 'weights',
      title,
      level: 'attention',
      summary: `the listener is not in a shape a shift may write: ${reading.problems.join('; ')} (npm run shift -- --env ${c.envName} --status)`,
      data: { problems: reading.problems, intent: intent ?? null },
    };
  }
  const live = reading.weights;
  const recorded = intent?.weights;
  // No record yet: no shift has run since the rule was created with initialWeights (as `shift --status` says).
  const inSync = recorded === undefined || (recorded.blue === live.blue && recorded.green === live.green);
  return {
    id: 'weights',
    title,
    level: inSync ? 'ok' : 'attention',
    summary: inSync
      ? `${formatWeights(live)} (${recorded ? 'weighted rule and record of intent agree' : 'weighted rule; no shift recorded yet'})`
      : `weighted rule ${formatWeights(live)}, record of intent ${formatWeights(recorded)}: DRIFT (npm run shift -- --env ${c.envName} --status says how to repair)`,
    data: { listener: live, intent: intent ?? null },
  };
}

async function leaseSection(c: Ctx): Promise<Section> {
  const title = 'lease';
  if (!c.deployment.has('state/table-name')) return notConfigured('lease', title, 'no state table deployed');
  const out = await c.deps.doc.send(
    new GetCommand({ TableName: c.deployment.get('state/table-name'), Key: LOCK_KEY, ConsistentRead: true }),
  );
  const lock = out.Item as LockHolder | undefined;
  // Expiry is the holder's clock, not ours (lambda/shared/shift-audit.ts): a lease past it is shown as such,
  // and a writer takes it over only after watching it unrenewed for a full TTL.
  const stale = lock !== undefined && lock.expiresAt * 1000 <= c.nowMs;
  return {
    id: 'lease',
    title,
    level: 'ok',
    summary: lock
      ? `held by ${lock.owner} for "${lock.purpose}" since ${lock.acquiredAt}, last renewed ${lock.renewedAt ?? lock.acquiredAt} (${stale ? 'not renewed in time: looks abandoned, the next writer takes it over after one TTL' : `expires ${new Date(lock.expiresAt * 1000).toISOString()} unless renewed`})`
      : 'free (no shift or plan holds the lock)',
    data: lock ?? null,
  };
}

async function planSection(c: Ctx): Promise<Section> {
  const title = 'plan';
  if (!c.deployment.has('rollout/state-machine-arn')) {
    return notConfigured('plan', title, 'no progressive rollout deployed in this environment');
  }
  const active = await describeActivePlan(
    c.deps.sfn,
    c.deps.doc,
    c.deployment.get('state/table-name'),
    c.deployment.get('rollout/state-machine-arn'),
  );
  const s = active.state;
  const steps = s ? s.steps.map((x) => `${x}%`).join(' -> ') : '';
  if (active.execution) {
    const step =
      s && s.stepIndex >= 0
        ? `step ${s.stepIndex + 1}/${s.steps.length} (${s.steps[s.stepIndex]}% green)`
        : 'starting';
    const phase =
      s?.phase === 'baking' && s.bakeUntil ? `baking until ${s.bakeUntil}` : (s?.phase ?? 'running');
    return {
      id: 'plan',
      title,
      level: 'ok',
      summary: `${active.execution.name} running: ${step}, ${phase}${steps ? `; plan ${steps}` : ''}`,
      data: { running: true, execution: active.execution.name, state: s ?? null },
    };
  }
  if (s && ACTIVE_PLAN_STATUSES.includes(s.status)) {
    return {
      id: 'plan',
      title,
      level: 'attention',
      summary: `plan ${s.planId} is marked ${s.status} but no execution runs: clear it with npm run shift -- --env ${c.envName} --abort`,
      data: { running: false, state: s },
    };
  }
  return {
    id: 'plan',
    title,
    level: 'ok',
    summary: s
      ? `none running; last ${s.planId} ${s.status} ${ago(c.nowMs, s.endedAt ?? s.updatedAt)}${s.cause ? ` (${s.cause})` : ''}`
      : 'none running, none run yet',
    data: { running: false, state: s ?? null },
  };
}

async function alarmsSection(c: Ctx): Promise<Section> {
  const title = 'alarms';
  const inAlarm: { name: string; reason?: string; composite: boolean }[] = [];
  let NextToken: string | undefined;
  do {
    const out: DescribeAlarmsCommandOutput = await c.deps.cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNamePrefix: alarmNamePrefix(c.envName),
        StateValue: 'ALARM',
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        NextToken,
      }),
    );
    for (const a of out.MetricAlarms ?? [])
      if (a.StateValue === 'ALARM')
        inAlarm.push({ name: a.AlarmName ?? '?', reason: a.StateReason, composite: false });
    for (const a of out.CompositeAlarms ?? [])
      if (a.StateValue === 'ALARM')
        inAlarm.push({ name: a.AlarmName ?? '?', reason: a.StateReason, composite: true });
    NextToken = out.NextToken;
  } while (NextToken);
  return {
    id: 'alarms',
    title,
    level: inAlarm.length > 0 ? 'attention' : 'ok',
    summary:
      inAlarm.length > 0 ? `${inAlarm.length} in ALARM` : `none in ALARM (${alarmNamePrefix(c.envName)}*)`,
    details: inAlarm.map((a) => `${a.name}${a.reason ? `: ${a.reason}` : ''}`),
    data: inAlarm,
  };
}

const READERS: readonly [SectionId, string, (c: Ctx) => Promise<Section>][] = [
  ['checks', 'data checks', checksSection],
  ['snapshot', 'snapshot', snapshotSection],
  [
    'restore-drill',
    'restore drill',
    (c) =>
      adapterSection(
        'restore-drill',
        'restore drill',
        () => readRestoreDrill(c),
        (d) => ({
          level: d.outcome === 'passed' ? 'ok' : 'attention',
          summary: `${d.outcome === 'passed' ? 'passed' : 'FAILED'} ${ago(c.nowMs, d.at)}${d.snapshotId ? ` (${d.snapshotId})` : ''}${d.detail ? `: ${d.detail}` : ''}`,
        }),
      ),
  ],
  [
    'parity',
    'parity',
    (c) =>
      adapterSection(
        'parity',
        'parity',
        () => readParity(c),
        (p) => ({
          level: p.outcome === 'match' ? 'ok' : 'attention',
          summary: `${p.outcome === 'match' ? 'match' : p.outcome.toUpperCase()}${p.matchedPercent === undefined ? '' : ` ${p.matchedPercent}%`} ${ago(c.nowMs, p.at)}${p.detail ? `: ${p.detail}` : ''}`,
        }),
      ),
  ],
  ['weights', 'weights', weightsSection],
  ['lease', 'lease', leaseSection],
  ['plan', 'plan', planSection],
  [
    'auto-rollback',
    'auto-rollback',
    (c) =>
      adapterSection(
        'auto-rollback',
        'auto-rollback',
        () => readAutoRollbackArming(c),
        // Disarmed outside a cutover is the policy, not a problem: triggers page and traffic stays.
        (a) => ({
          level: 'ok',
          summary: a.armed
            ? `armed${a.until ? ` until ${a.until}` : ''}${a.detail ? `: ${a.detail}` : ''}`
            : `disarmed${a.detail ? `: ${a.detail}` : ''}`,
        }),
      ),
  ],
  ['alarms', 'alarms', alarmsSection],
];

/** Reads every section; a reader that fails yields an `unknown` section saying why, never a guess. */
export async function readSections(
  config: EnvironmentConfig,
  deployment: Deployment,
  deps: StatusDeps,
): Promise<Section[]> {
  const ctx: Ctx = { envName: config.envName, config, deployment, deps, nowMs: deps.clock.now() };
  return Promise.all(
    READERS.map(async ([id, title, read]) => {
      try {
        return await read(ctx);
      } catch (err) {
        const f = describeFailure(err, { envName: config.envName });
        return {
          id,
          title,
          level: 'unknown',
          summary: `could not read: ${f.message}`,
          details: f.hint ? [f.hint] : [],
        };
      }
    }),
  );
}

/** 1 when something needs attention (whatever else could not be read), 2 when nothing needs it but something could not be read, else 0. */
export function statusExitCode(sections: readonly Section[]): 0 | 1 | 2 {
  if (sections.some((s) => s.level === 'attention')) return 1;
  if (sections.some((s) => s.level === 'unknown')) return 2;
  return 0;
}
