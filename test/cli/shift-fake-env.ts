import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type CompositeAlarm,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type ModifyRuleCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type CreateDBSnapshotCommandInput,
  type DBSnapshot,
  type DescribeDBSnapshotsCommandInput,
} from '@aws-sdk/client-rds';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import {
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
  type GetParametersByPathCommandInput,
  type PutParameterCommandInput,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DeleteCommandInput,
  type GetCommandInput,
  type PutCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { applyUpdate, evaluateCondition } from '../support/dynamo-expressions';
import { mockClient } from 'aws-sdk-client-mock';
import type { ChecksSummary } from '../../lambda/shared/checks-summary';
import type { ShiftDeps } from '../../cli/shift/deps';
import type { CliIo } from '../../cli/io';
import { takeSnapshot } from '../../lambda/snapshots/take-snapshot';

/**
 * A fake environment behind aws-sdk-client-mock: the mocks answer from (and change) in-memory state, so
 * the shift command sees its own writes (the listener it modified, the lock it took, the audit it wrote),
 * as it would in AWS. Used by the CLI tests and by test/cli/shift-demo.ts (the README transcript).
 */
export const mocks = {
  elbv2: mockClient(ElasticLoadBalancingV2Client),
  ssm: mockClient(SSMClient),
  cloudwatch: mockClient(CloudWatchClient),
  doc: mockClient(DynamoDBDocumentClient),
  rds: mockClient(RDSClient),
  sns: mockClient(SNSClient),
  sts: mockClient(STSClient),
  ecs: mockClient(ECSClient),
  sfn: mockClient(SFNClient),
};

export const ACCOUNT = { prod: '333333333333', staging: '222222222222', dev: '111111111111' } as const;
export const OPERATOR_ARN = 'arn:aws:sts::333333333333:assumed-role/DataPlatformOperator/alice';

type Env = keyof typeof ACCOUNT;

interface FakeAlarm {
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  critical: boolean;
  composite?: boolean;
  reason?: string;
}

export class FakeEnvironment {
  readonly root: string;
  readonly params = new Map<string, string>();
  readonly alarms = new Map<string, FakeAlarm>();
  readonly targets: Record<'blue' | 'green', string[]> = {
    blue: ['healthy', 'healthy'],
    green: ['healthy', 'healthy'],
  };
  listener = { blue: 100, green: 0 };
  checks: ChecksSummary | undefined;
  /** State-table items other than the checks summary and the audit (lease, intent, plan). */
  readonly items = new Map<string, Record<string, unknown>>();
  readonly audit: Record<string, unknown>[] = [];
  readonly snapshots: DBSnapshot[] = [];
  readonly published: PublishCommandInput[] = [];
  /** Fake time, in ms since the epoch. */
  now = Date.parse('2026-11-26T02:00:00Z');
  /** Describe calls a new snapshot needs before it is available. */
  snapshotPolls = 3;
  /**
   * Called before each bake poll (DescribeAlarms by name of green's alarms once the rule was modified; the
   * gates before the change read the same names) with its index: flip alarms mid-bake here.
   */
  onAlarmPoll: (poll: number) => void = () => undefined;
  private alarmPolls = 0;
  /** ModifyRule calls so far. */
  ruleWrites = 0;
  callerAccount: string;

  constructor(readonly envName: Env = 'prod') {
    this.root = `/pipeline-guardrails/${envName}`;
    this.callerAccount = ACCOUNT[envName];
    const p = `pipeline-guardrails-${envName}`;
    const arn = (svc: string, rest: string) => `arn:aws:${svc}:us-east-1:${ACCOUNT[envName]}:${rest}`;
    const deployed: Record<string, string> = {
      'state/table-name': `${p}-state`,
      'alerting/critical-topic-arn': arn('sns', `${p}-critical`),
      'alerting/warning-topic-arn': arn('sns', `${p}-warning`),
      'alerting/critical-composite-alarm-name': `${p}-critical-any`,
      'database/instance-identifier': `nba-analytics-${envName}`,
      'routing/listener-arn': arn(
        'elasticloadbalancing',
        `listener/app/${p}/0a1b2c3d4e5f6071/8091a2b3c4d5e6f7`,
      ),
      'routing/weighted-rule-arn': arn(
        'elasticloadbalancing',
        `listener-rule/app/${p}/0a1b2c3d4e5f6071/8091a2b3c4d5e6f7/9a8b7c6d5e4f3021`,
      ),
      'routing/blue-target-group-arn': arn('elasticloadbalancing', `targetgroup/${p}-blue/1a2b3c4d5e6f7081`),
      'routing/green-target-group-arn': arn(
        'elasticloadbalancing',
        `targetgroup/${p}-green/2b3c4d5e6f708192`,
      ),
      'routing/blue-service-name': `${p}-blue`,
      'routing/green-service-name': `${p}-green`,
      'routing/cluster-name': `${p}-routing`,
      'routing/green-alarm-names': ['error-rate', 'latency-p95', 'unhealthy-hosts']
        .map((k) => `${p}-routing-green-${k}`)
        .join(','),
      'routing/blue-alarm-names': ['error-rate', 'latency-p95', 'unhealthy-hosts']
        .map((k) => `${p}-routing-blue-${k}`)
        .join(','),
      'routing/bake-seconds': '900',
      'routing/pre-shift-snapshot': 'when-green-rises-from-zero',
      'routing/snapshot-timeout-minutes': '60',
      // The automatic rollback's deployed policy (prod: armed 24 h after green's last increase).
      'rollout/auto-rollback-policy': JSON.stringify({ watchHours: 24, triggers: ['green-error-rate'] }),
    };
    for (const [k, v] of Object.entries(deployed)) this.params.set(`${this.root}/${k}`, v);
    for (const color of ['blue', 'green']) {
      this.alarms.set(`${p}-routing-${color}-error-rate`, { state: 'OK', critical: true });
      this.alarms.set(`${p}-routing-${color}-latency-p95`, { state: 'OK', critical: true });
      this.alarms.set(`${p}-routing-${color}-unhealthy-hosts`, { state: 'OK', critical: false });
    }
    this.alarms.set(`${p}-routing-throughput`, { state: 'OK', critical: false });
    this.alarms.set(`${p}-checks-rows-lost-games`, { state: 'OK', critical: true });
    this.alarms.set(`${p}-database-cpu-critical`, { state: 'OK', critical: true });
    this.alarms.set(`${p}-critical-any`, { state: 'OK', critical: false, composite: true });
    this.checks = {
      status: 'ok',
      checkedAt: new Date(this.now - 60_000).toISOString(),
      problems: [],
      durationMs: 4200,
    };
    this.install();
  }

  get lock(): Record<string, unknown> | undefined {
    return this.items.get('shift#lock|lock');
  }
  set lock(v: Record<string, unknown> | undefined) {
    if (v)
      this.items.set('shift#lock|lock', {
        pk: 'shift#lock',
        sk: 'lock',
        leaseId: 'lease-of-someone',
        version: 1,
        ...v,
      });
    else this.items.delete('shift#lock|lock');
  }
  /** The record of intent of the weights (routing#weights/current). */
  get intent(): { weights?: { blue: number; green: number } } | undefined {
    return this.items.get('routing#weights|current') as never;
  }
  set intent(weights: { blue: number; green: number } | undefined) {
    if (weights)
      this.items.set('routing#weights|current', {
        pk: 'routing#weights',
        sk: 'current',
        weights,
        version: 1,
        operationId: 'earlier',
        writer: 'someone',
        at: new Date(this.now).toISOString(),
      });
    else this.items.delete('routing#weights|current');
  }

  get prefix(): string {
    return `pipeline-guardrails-${this.envName}`;
  }

  param(key: string): string | undefined {
    return this.params.get(`${this.root}/${key}`);
  }

  setAlarm(suffix: string, state: FakeAlarm['state'], reason?: string): void {
    const name = `${this.prefix}-${suffix}`;
    const a = this.alarms.get(name);
    if (!a) throw new Error(`no alarm ${name}`);
    a.state = state;
    a.reason = reason;
    if (name !== `${this.prefix}-critical-any` && a.critical) {
      const anyCritical =
        [...this.alarms.entries()].some(([n, x]) => x.critical && x.state === 'ALARM' && n !== name) ||
        state === 'ALARM';
      this.alarms.get(`${this.prefix}-critical-any`)!.state = anyCritical ? 'ALARM' : 'OK';
    }
  }

  deps(overrides: Partial<ShiftDeps> = {}): ShiftDeps {
    return {
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      ssm: new SSMClient({ region: 'us-east-1' }),
      cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
      doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      rds: new RDSClient({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
      sts: new STSClient({ region: 'us-east-1' }),
      ecs: new ECSClient({ region: 'us-east-1' }),
      sfn: new SFNClient({ region: 'us-east-1' }),
      clock: {
        now: () => this.now,
        sleep: async (ms) => {
          this.now += ms;
        },
      },
      takeSnapshot,
      pollIntervalMs: 15_000,
      host: 'ops-laptop',
      pid: 4242,
      ...overrides,
    };
  }

  /** Every AWS call made, across clients. */
  callCount(): number {
    return Object.values(mocks).reduce((n, m) => n + m.calls().length, 0);
  }

  private install(): void {
    for (const m of Object.values(mocks)) m.reset();
    const criticalTopic = this.param('alerting/critical-topic-arn')!;

    mocks.sts.on(GetCallerIdentityCommand).callsFake(() => ({
      Arn:
        this.callerAccount === ACCOUNT[this.envName]
          ? OPERATOR_ARN
          : `arn:aws:sts::${this.callerAccount}:assumed-role/Other/bob`,
      Account: this.callerAccount,
      UserId: 'AROAEXAMPLE:alice',
    }));

    mocks.ssm.on(GetParametersByPathCommand).callsFake((input: GetParametersByPathCommandInput) => {
      const all = [...this.params.entries()].filter(([k]) => k.startsWith(input.Path ?? '')).sort();
      // Ten per page, like SSM, so the paging is exercised.
      const start = Number(input.NextToken ?? 0);
      const page = all.slice(start, start + 10);
      return {
        Parameters: page.map(([Name, Value]) => ({ Name, Value, Type: 'String' })),
        NextToken: start + 10 < all.length ? String(start + 10) : undefined,
      };
    });
    mocks.ssm.on(PutParameterCommand).callsFake((input: PutParameterCommandInput) => {
      this.params.set(input.Name!, input.Value!);
      return { Version: 2 };
    });

    const tg = (color: 'blue' | 'green') => this.param(`routing/${color}-target-group-arn`)!;
    const rule = () => this.param('routing/weighted-rule-arn')!;
    mocks.elbv2.on(DescribeRulesCommand).callsFake(() => ({
      Rules: [
        {
          RuleArn: `${rule()}-default`,
          IsDefault: true,
          Priority: 'default',
          Actions: [{ Type: 'forward', TargetGroupArn: tg('blue') }],
        },
        {
          RuleArn: rule(),
          Priority: '1',
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['*'] } }],
          Actions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: tg('blue'), Weight: this.listener.blue },
                  { TargetGroupArn: tg('green'), Weight: this.listener.green },
                ],
              },
            },
          ],
        },
      ],
    }));
    mocks.elbv2.on(ModifyRuleCommand).callsFake((input: ModifyRuleCommandInput) => {
      const groups = input.Actions?.[0]?.ForwardConfig?.TargetGroups ?? [];
      const w = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight ?? 0;
      this.listener = { blue: w(tg('blue')), green: w(tg('green')) };
      this.ruleWrites++;
      return {};
    });
    mocks.elbv2.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn?: string }) => {
      const color = input.TargetGroupArn === tg('green') ? 'green' : 'blue';
      return {
        TargetHealthDescriptions: this.targets[color].map((State, i) => ({
          Target: { Id: `10.40.${color === 'blue' ? 1 : 2}.${10 + i}`, Port: 8080 },
          TargetHealth: { State: State as 'healthy' },
        })),
      };
    });

    mocks.cloudwatch.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
      if (input.AlarmNames && !input.AlarmNamePrefix) {
        const isBakePoll = this.ruleWrites > 0 && input.AlarmNames.some((n) => n.includes('-routing-green-'));
        if (isBakePoll) this.onAlarmPoll(this.alarmPolls++);
      }
      const selected = [...this.alarms.entries()].filter(([name]) =>
        input.AlarmNames ? input.AlarmNames.includes(name) : name.startsWith(input.AlarmNamePrefix ?? ''),
      );
      const metric: MetricAlarm[] = [];
      const composite: CompositeAlarm[] = [];
      for (const [name, a] of selected) {
        const common = {
          AlarmName: name,
          StateValue: a.state,
          StateReason:
            a.reason ??
            (a.state === 'OK' ? 'Threshold Crossed: no datapoints were breaching' : 'Threshold Crossed'),
          AlarmActions: a.critical
            ? [criticalTopic]
            : a.composite
              ? []
              : [this.param('alerting/warning-topic-arn')!],
        };
        if (a.composite) composite.push(common);
        else metric.push(common);
      }
      return { MetricAlarms: metric, CompositeAlarms: composite };
    });

    const table = this.param('state/table-name');
    const failed = (old?: Record<string, unknown>) => {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: old ? (marshall(old, { removeUndefinedValues: true }) as never) : undefined,
      });
    };
    const keyOf = (k: { pk: string; sk: string }) => `${k.pk}|${k.sk}`;
    mocks.doc.on(GetCommand).callsFake((input: GetCommandInput) => {
      if (input.TableName !== table) throw new Error(`unexpected table ${input.TableName}`);
      const key = input.Key as { pk: string; sk: string };
      if (key.pk === 'checks')
        return { Item: this.checks ? { pk: 'checks', sk: 'last-run', ...this.checks } : undefined };
      return { Item: this.items.get(keyOf(key)) };
    });
    mocks.doc.on(PutCommand).callsFake((input: PutCommandInput) => {
      const item = input.Item as Record<string, unknown> & { pk: string; sk: string };
      if (item.pk === 'shift#audit') {
        this.audit.push(item);
        return {};
      }
      const old = this.items.get(keyOf(item));
      const values = input.ExpressionAttributeValues as Record<string, unknown>;
      if (!evaluateCondition(input.ConditionExpression, old, input.ExpressionAttributeNames, values))
        failed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? old : undefined);
      this.items.set(keyOf(item), item);
      return {};
    });
    mocks.doc.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
      const key = input.Key as { pk: string; sk: string };
      const old = this.items.get(keyOf(key));
      const values = input.ExpressionAttributeValues as Record<string, unknown>;
      if (!evaluateCondition(input.ConditionExpression, old, input.ExpressionAttributeNames, values))
        failed();
      const next = applyUpdate(
        input.UpdateExpression!,
        { ...(old ?? {}), ...key },
        input.ExpressionAttributeNames,
        values,
      );
      this.items.set(keyOf(key), next);
      return { Attributes: next };
    });
    mocks.doc.on(DeleteCommand).callsFake((input: DeleteCommandInput) => {
      const key = input.Key as { pk: string; sk: string };
      const old = this.items.get(keyOf(key));
      const values = input.ExpressionAttributeValues as Record<string, unknown>;
      if (!evaluateCondition(input.ConditionExpression, old, input.ExpressionAttributeNames, values))
        failed();
      this.items.delete(keyOf(key));
      return {};
    });
    mocks.doc.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
      const reasons = (input.TransactItems ?? []).map((t) => {
        const c = (t.ConditionCheck ?? t.Put)!;
        const key = (t.ConditionCheck ? t.ConditionCheck.Key : t.Put!.Item) as { pk: string; sk: string };
        const ok = evaluateCondition(
          c.ConditionExpression,
          this.items.get(keyOf(key)),
          c.ExpressionAttributeNames,
          c.ExpressionAttributeValues as Record<string, unknown>,
        );
        return { Code: ok ? 'None' : 'ConditionalCheckFailed' };
      });
      if (reasons.some((r) => r.Code !== 'None'))
        throw new TransactionCanceledException({
          message: 'cancelled',
          $metadata: {},
          CancellationReasons: reasons,
        });
      for (const t of input.TransactItems ?? []) {
        if (t.Put) this.items.set(keyOf(t.Put.Item as { pk: string; sk: string }), t.Put.Item as never);
      }
      return {};
    });
    mocks.doc.on(QueryCommand).callsFake((input: { Limit?: number }) => ({
      Items: [...this.audit]
        .sort((a, b) => String(b.sk).localeCompare(String(a.sk)))
        .slice(0, input.Limit ?? 10),
    }));

    const instance = this.param('database/instance-identifier');
    const progress = new Map<string, number>();
    mocks.rds.on(CreateDBSnapshotCommand).callsFake((input: CreateDBSnapshotCommandInput) => {
      const s: DBSnapshot = {
        DBSnapshotIdentifier: input.DBSnapshotIdentifier,
        DBSnapshotArn: `arn:aws:rds:us-east-1:${ACCOUNT[this.envName]}:snapshot:${input.DBSnapshotIdentifier}`,
        DBInstanceIdentifier: input.DBInstanceIdentifier,
        SnapshotType: 'manual',
        Status: 'creating',
        PercentProgress: 0,
        SnapshotCreateTime: new Date(this.now),
        TagList: input.Tags,
      };
      this.snapshots.push(s);
      progress.set(input.DBSnapshotIdentifier!, 0);
      return { DBSnapshot: s };
    });
    mocks.rds.on(DescribeDBSnapshotsCommand).callsFake((input: DescribeDBSnapshotsCommandInput) => {
      if (input.DBSnapshotIdentifier) {
        const s = this.snapshots.find((x) => x.DBSnapshotIdentifier === input.DBSnapshotIdentifier);
        if (!s) return { DBSnapshots: [] };
        const polls = (progress.get(s.DBSnapshotIdentifier!) ?? 0) + 1;
        progress.set(s.DBSnapshotIdentifier!, polls);
        if (s.Status === 'creating') {
          s.PercentProgress = Math.min(100, Math.round((polls / this.snapshotPolls) * 100));
          if (polls >= this.snapshotPolls) s.Status = 'available';
        }
        return { DBSnapshots: [s] };
      }
      if (input.SnapshotType === 'manual')
        return { DBSnapshots: this.snapshots.filter((s) => s.SnapshotType === 'manual') };
      if (input.DBInstanceIdentifier === instance) {
        return {
          DBSnapshots: [
            {
              DBSnapshotIdentifier: `rds:${instance}-2026-11-26-00-05`,
              SnapshotType: 'automated',
              Status: 'available',
              SnapshotCreateTime: new Date('2026-11-26T00:05:00Z'),
            },
            ...this.snapshots,
          ],
        };
      }
      return { DBSnapshots: [] };
    });

    mocks.ecs.on(DescribeServicesCommand).callsFake(() => ({
      services: (['blue', 'green'] as const).map((color) => ({
        serviceName: `${this.prefix}-${color}`,
        desiredCount: this.targets[color].length,
        runningCount: this.targets[color].filter((t) => t !== 'draining').length,
        taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT[this.envName]}:task-definition/${this.prefix}-${color}:${color === 'blue' ? 7 : 12}`,
        deployments: [{ status: 'PRIMARY', rolloutState: 'COMPLETED' as const }],
      })),
    }));
    mocks.sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
      this.published.push(input);
      return { MessageId: `msg-${this.published.length}` };
    });
  }
}

/** A CliIo that records what was written; `answers` are the prompt's replies, in order. */
export function fakeIo(
  opts: {
    tty?: boolean;
    answers?: string[];
    /** Runs while the prompt is open (before it is answered): change the world here. */
    onPrompt?: (question: string) => void;
  } = {},
) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const prompts: string[] = [];
  const answers = [...(opts.answers ?? [])];
  const io: CliIo = {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    isTTY: opts.tty ?? false,
    prompt: async (q) => {
      prompts.push(q);
      opts.onPrompt?.(q);
      return answers.shift() ?? '';
    },
    env: {},
  };
  return {
    io,
    prompts,
    out: () => stdout.join(''),
    err: () => stderr.join(''),
  };
}
