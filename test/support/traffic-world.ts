import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  PutMetricDataCommand,
  type DescribeAlarmsCommandInput,
  type GetMetricDataCommandInput,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type DescribeRulesCommandInput,
  type ModifyRuleCommandInput,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
  type ListExecutionsCommandInput,
  type StopExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import {
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type CreateDBSnapshotCommandInput,
  type DBSnapshot,
  type DescribeDBSnapshotsCommandInput,
} from '@aws-sdk/client-rds';
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
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  GetParametersByPathCommand,
  SSMClient,
  type GetParametersByPathCommandInput,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { STATE_KEYS } from '../../lib/project';
import type { TrafficTarget, Weights } from '../../lambda/shared/traffic';
import { applyUpdate, evaluateCondition } from './dynamo-expressions';

/**
 * An in-memory AWS for the traffic writers: the listener's rules (ELB), the state table (DynamoDB, with
 * the real compare-and-set semantics of the expressions the code writes), alarms, target health, the
 * rollout's executions and SNS. Every call goes through one hook (`call`), where a test injects faults:
 * - `error`: the call fails before it happens (a throttle);
 * - `crash-after`: the call happens, then the caller dies (every later call of that process fails too,
 *   until `revive()`: the next process, or the next Lambda attempt);
 * - `duplicate`: the call happens twice (a retry after a lost response).
 * It also records what an invariant check needs: every change of the rule's weights, with whether the
 * gates were open and a lease was held at that moment.
 */
export const worldMocks = {
  elbv2: mockClient(ElasticLoadBalancingV2Client),
  doc: mockClient(DynamoDBDocumentClient),
  cloudwatch: mockClient(CloudWatchClient),
  sfn: mockClient(SFNClient),
  sns: mockClient(SNSClient),
  rds: mockClient(RDSClient),
  ssm: mockClient(SSMClient),
  sts: mockClient(STSClient),
};

export type FaultKind = 'error' | 'crash-after' | 'duplicate';
export const FAULT_KINDS: readonly FaultKind[] = ['error', 'crash-after', 'duplicate'];

export class CrashError extends Error {
  constructor(command: string) {
    super(`process crashed (after ${command})`);
    this.name = 'ProcessCrashed';
  }
}

export class ThrottleError extends Error {
  readonly $metadata = { httpStatusCode: 400 };
  constructor(command: string) {
    super(`Rate exceeded (${command})`);
    this.name = 'ThrottlingException';
  }
}

type Item = Record<string, unknown>;

export interface WeightChange {
  readonly at: number;
  readonly from: Weights;
  readonly to: Weights;
  readonly gatesOpen: boolean;
  readonly leaseHeld: boolean;
}

const ACCOUNT = '111111111111';

export class TrafficWorld {
  readonly envName: string;
  readonly tableName = 'state-table';
  readonly listenerArn = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/lb/1/2`;
  readonly ruleArn = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener-rule/app/lb/1/2/3`;
  readonly blueTg = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/blue/1`;
  readonly greenTg = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/green/1`;
  readonly stateMachineArn = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:pipeline-guardrails-test-rollout`;
  readonly composite: string;
  readonly greenAlarms: string[];
  readonly criticalTopicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:critical`;
  readonly warningTopicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:warning`;

  now = Date.parse('2026-11-26T02:00:00Z');
  rules: Rule[];
  readonly items = new Map<string, Item>();
  readonly alarms = new Map<string, string>();
  readonly health: Record<'blue' | 'green', string[]> = {
    blue: ['healthy', 'healthy'],
    green: ['healthy', 'healthy'],
  };
  readonly executions = new Map<string, 'RUNNING' | 'ABORTED' | 'SUCCEEDED' | 'FAILED'>();
  readonly published: PublishCommandInput[] = [];
  readonly snapshots: DBSnapshot[] = [];
  readonly metrics: PutMetricDataCommandInput[] = [];
  readonly changes: WeightChange[] = [];
  /** Every call, in order (command names). */
  readonly calls: string[] = [];
  /**
   * Green's load-balancer requests per minute at its current weight (GetMetricData of RequestCount):
   * by default 10 a minute per percent of traffic (100 a minute at 10%).
   */
  greenRequestsPerMinute: (green: number) => number = (green) => 10 * green;

  fault: { index: number; kind: FaultKind } | undefined;
  private crashed = false;
  /** Called before each call is served (flip alarms, move time). */
  onCall: (command: string, index: number) => void = () => undefined;

  constructor(weights: Weights = { blue: 100, green: 0 }, envName = 'test') {
    this.envName = envName;
    const prefix = `pipeline-guardrails-${envName}`;
    this.composite = `${prefix}-critical-any`;
    this.greenAlarms = [
      `${prefix}-routing-green-error-rate-critical`,
      `${prefix}-routing-green-latency-p95-critical`,
    ];
    this.rules = [
      {
        RuleArn: `${this.listenerArn.replace(':listener/', ':listener-rule/')}/default`,
        IsDefault: true,
        Priority: 'default',
        Actions: [{ Type: 'forward', TargetGroupArn: this.blueTg }],
        Conditions: [],
      },
      {
        RuleArn: this.ruleArn,
        IsDefault: false,
        Priority: '1',
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['*'] }, Values: ['*'] }],
        Actions: [this.forward(weights)],
      },
    ];
    for (const n of [this.composite, ...this.greenAlarms]) this.alarms.set(n, 'OK');
    this.setChecks('ok');
    this.install();
  }

  /** What the environment published in SSM (cli/deployed.ts reads it). */
  deployment(): Record<string, string> {
    return {
      'state/table-name': this.tableName,
      'alerting/critical-topic-arn': this.criticalTopicArn,
      'alerting/warning-topic-arn': this.warningTopicArn,
      'alerting/critical-composite-alarm-name': this.composite,
      'database/instance-identifier': 'nba-test',
      'routing/listener-arn': this.listenerArn,
      'routing/weighted-rule-arn': this.ruleArn,
      'routing/blue-target-group-arn': this.blueTg,
      'routing/green-target-group-arn': this.greenTg,
      'routing/green-alarm-names': this.greenAlarms.join(','),
      'routing/bake-seconds': '60',
      'routing/snapshot-timeout-minutes': '60',
      'rollout/state-machine-arn': this.stateMachineArn,
    };
  }

  /**
   * Green raised to the current weights `msAgo` by a shift that has ended: its record of intent (version 1,
   * operation `shift#raise`) records greenRaisedAt, which arms the automatic rollback for its watch window.
   */
  greenRaised(msAgo: number, version = 1): void {
    const at = new Date(this.now - msAgo).toISOString();
    this.items.set('routing#weights|current', {
      pk: 'routing#weights',
      sk: 'current',
      weights: this.weights,
      version,
      operationId: 'shift#raise',
      writer: 'alice',
      at,
      greenRaisedAt: at,
    });
  }

  /** The AWS clients of the automatic rollback (served by this world's mocks). */
  autoRollbackClients() {
    return {
      doc: this.doc(),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
      sfn: new SFNClient({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
    };
  }

  /** A document client (its calls are served by this world). */
  doc(): DynamoDBDocumentClient {
    return DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  get target(): TrafficTarget {
    return {
      envName: this.envName,
      listenerArn: this.listenerArn,
      ruleArn: this.ruleArn,
      blueTargetGroupArn: this.blueTg,
      greenTargetGroupArn: this.greenTg,
      stateTableName: this.tableName,
    };
  }

  get alarmNames(): string[] {
    return [this.composite, ...this.greenAlarms];
  }

  forward(w: Weights) {
    return {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: this.blueTg, Weight: w.blue },
          { TargetGroupArn: this.greenTg, Weight: w.green },
        ],
      },
    };
  }

  /** The weights the weighted rule applies. */
  get weights(): Weights {
    const groups =
      this.rules.find((r) => r.RuleArn === this.ruleArn)?.Actions?.find((a) => a.Type === 'forward')
        ?.ForwardConfig?.TargetGroups ?? [];
    const w = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight ?? 0;
    return { blue: w(this.blueTg), green: w(this.greenTg) };
  }

  set weights(w: Weights) {
    const rule = this.rules.find((r) => r.RuleArn === this.ruleArn);
    if (rule) rule.Actions = [this.forward(w)];
  }

  item(key: { pk: string; sk: string }): Item | undefined {
    return this.items.get(`${key.pk}|${key.sk}`);
  }

  get intent(): Item | undefined {
    return this.item(STATE_KEYS.weightsIntent);
  }
  get lease(): Item | undefined {
    return this.item(STATE_KEYS.lease);
  }
  get plan(): Item | undefined {
    return this.item(STATE_KEYS.plan);
  }
  get audit(): Item[] {
    return [...this.items.values()]
      .filter((i) => i.pk === STATE_KEYS.auditPk)
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
  }

  setChecks(status: 'ok' | 'violation'): void {
    this.items.set('checks|last-run', {
      pk: 'checks',
      sk: 'last-run',
      status,
      checkedAt: new Date(this.now - 60_000).toISOString(),
      problems: status === 'ok' ? [] : ['games: rows lost 3 (noDecrease)'],
    });
  }

  /** The next process (or Lambda attempt) runs: calls are served again. */
  revive(): void {
    this.crashed = false;
  }

  /** Whether the process died during the last run (whatever the code under test caught afterwards). */
  get hasCrashed(): boolean {
    return this.crashed;
  }

  /** Whether a shift's gates are open now (what an increase of green must have seen). */
  gatesOpen(): boolean {
    const alarmsOk = this.alarmNames.every((n) => this.alarms.get(n) !== 'ALARM');
    const checks = this.items.get('checks|last-run');
    return alarmsOk && this.health.green.includes('healthy') && checks?.status === 'ok';
  }

  private call<T>(command: string, serve: () => T): T {
    if (this.crashed) throw new CrashError('an earlier call');
    const index = this.calls.length;
    this.calls.push(command);
    this.onCall(command, index);
    const fault = this.fault?.index === index ? this.fault.kind : undefined;
    if (fault === 'error') throw new ThrottleError(command);
    const result = serve();
    if (fault === 'duplicate') serve();
    if (fault === 'crash-after') {
      this.crashed = true;
      throw new CrashError(command);
    }
    return result;
  }

  private conditionFailed(old: Item | undefined): never {
    throw new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: old ? (marshall(old, { removeUndefinedValues: true }) as never) : undefined,
    });
  }

  private install(): void {
    for (const m of Object.values(worldMocks)) m.reset();
    const { elbv2, doc, cloudwatch, sfn, sns, rds, ssm, sts } = worldMocks;
    sts.on(GetCallerIdentityCommand).resolves({
      Account: ACCOUNT,
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/DataPlatformOperator/alice`,
    });
    ssm.on(GetParametersByPathCommand).callsFake((input: GetParametersByPathCommandInput) =>
      this.call('ssm.GetParametersByPath', () => ({
        Parameters: Object.entries(this.deployment()).map(([k, Value]) => ({
          Name: `${input.Path}${k}`,
          Value,
        })),
      })),
    );
    rds.on(CreateDBSnapshotCommand).callsFake((input: CreateDBSnapshotCommandInput) =>
      this.call('rds.CreateDBSnapshot', () => {
        if (this.snapshots.some((x) => x.DBSnapshotIdentifier === input.DBSnapshotIdentifier)) {
          throw Object.assign(new Error('snapshot exists'), { name: 'DBSnapshotAlreadyExistsFault' });
        }
        const snap: DBSnapshot = {
          DBSnapshotIdentifier: input.DBSnapshotIdentifier,
          DBInstanceIdentifier: input.DBInstanceIdentifier,
          SnapshotType: 'manual',
          Status: 'creating',
          SnapshotCreateTime: new Date(this.now),
        };
        this.snapshots.push(snap);
        return { DBSnapshot: { ...snap } };
      }),
    );
    rds.on(DescribeDBSnapshotsCommand).callsFake((input: DescribeDBSnapshotsCommandInput) =>
      this.call('rds.DescribeDBSnapshots', () => {
        if (input.DBSnapshotIdentifier) {
          const snap = this.snapshots.find((x) => x.DBSnapshotIdentifier === input.DBSnapshotIdentifier);
          if (snap) snap.Status = 'available';
          return { DBSnapshots: snap ? [{ ...snap }] : [] };
        }
        return { DBSnapshots: this.snapshots.map((x) => ({ ...x })) };
      }),
    );
    elbv2.on(DescribeRulesCommand).callsFake((input: DescribeRulesCommandInput) =>
      this.call('elbv2.DescribeRules', () => {
        if (input.RuleArns)
          return { Rules: structuredClone(this.rules.filter((r) => input.RuleArns!.includes(r.RuleArn!))) };
        if (input.ListenerArn !== this.listenerArn)
          throw Object.assign(new Error('listener not found'), { name: 'ListenerNotFoundException' });
        return { Rules: structuredClone(this.rules) };
      }),
    );
    elbv2.on(ModifyRuleCommand).callsFake((input: ModifyRuleCommandInput) =>
      this.call('elbv2.ModifyRule', () => {
        const rule = this.rules.find((r) => r.RuleArn === input.RuleArn);
        if (!rule) throw Object.assign(new Error('rule not found'), { name: 'RuleNotFoundException' });
        const from = this.weights;
        rule.Actions = structuredClone(input.Actions);
        const to = this.weights;
        if (to.green !== from.green) {
          this.changes.push({
            at: this.now,
            from,
            to,
            gatesOpen: this.gatesOpen(),
            leaseHeld: this.lease !== undefined,
          });
        }
        return {};
      }),
    );
    elbv2.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn?: string }) =>
      this.call('elbv2.DescribeTargetHealth', () => {
        const color = input.TargetGroupArn === this.greenTg ? 'green' : 'blue';
        return {
          TargetHealthDescriptions: this.health[color].map((State, i) => ({
            Target: { Id: `10.0.0.${i}` },
            TargetHealth: { State },
          })),
        };
      }),
    );

    doc.on(GetCommand).callsFake((input: GetCommandInput) =>
      this.call('ddb.Get', () => {
        const k = input.Key as { pk: string; sk: string };
        const it = this.item(k);
        return { Item: it ? structuredClone(it) : undefined };
      }),
    );
    const put = (input: PutCommandInput) => {
      const item = input.Item as Item & { pk: string; sk: string };
      const key = `${item.pk}|${item.sk}`;
      const old = this.items.get(key);
      if (
        !evaluateCondition(
          input.ConditionExpression,
          old,
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues as Record<string, unknown>,
        )
      ) {
        this.conditionFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? old : undefined);
      }
      this.items.set(key, structuredClone(item));
      return {};
    };
    doc.on(PutCommand).callsFake((input: PutCommandInput) => this.call('ddb.Put', () => put(input)));
    doc.on(UpdateCommand).callsFake((input: UpdateCommandInput) =>
      this.call('ddb.Update', () => {
        const k = input.Key as { pk: string; sk: string };
        const key = `${k.pk}|${k.sk}`;
        const old = this.items.get(key);
        const values = input.ExpressionAttributeValues as Record<string, unknown>;
        if (!evaluateCondition(input.ConditionExpression, old, input.ExpressionAttributeNames, values))
          this.conditionFailed(undefined);
        const next = applyUpdate(
          input.UpdateExpression!,
          { ...(old ?? {}), ...k },
          input.ExpressionAttributeNames,
          values,
        );
        this.items.set(key, next);
        return { Attributes: structuredClone(next) };
      }),
    );
    doc.on(DeleteCommand).callsFake((input: DeleteCommandInput) =>
      this.call('ddb.Delete', () => {
        const k = input.Key as { pk: string; sk: string };
        const key = `${k.pk}|${k.sk}`;
        const old = this.items.get(key);
        if (
          !evaluateCondition(
            input.ConditionExpression,
            old,
            input.ExpressionAttributeNames,
            input.ExpressionAttributeValues as Record<string, unknown>,
          )
        )
          this.conditionFailed(undefined);
        this.items.delete(key);
        return {};
      }),
    );
    doc.on(QueryCommand).callsFake((input: QueryCommandInput) =>
      this.call('ddb.Query', () => {
        const pk = (input.ExpressionAttributeValues as { ':pk': string })[':pk'];
        const items = [...this.items.values()]
          .filter((i) => i.pk === pk)
          .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
        if (input.ScanIndexForward === false) items.reverse();
        return { Items: structuredClone(items.slice(0, input.Limit ?? items.length)) };
      }),
    );
    doc.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) =>
      this.call('ddb.TransactWrite', () => {
        const reasons = (input.TransactItems ?? []).map((t) => {
          const c = t.ConditionCheck ?? t.Put;
          if (!c) throw new Error('unsupported transact item');
          const key = t.ConditionCheck
            ? (t.ConditionCheck.Key as { pk: string; sk: string })
            : (t.Put!.Item as { pk: string; sk: string });
          const ok = evaluateCondition(
            c.ConditionExpression,
            this.items.get(`${key.pk}|${key.sk}`),
            c.ExpressionAttributeNames,
            c.ExpressionAttributeValues as Record<string, unknown>,
          );
          return { Code: ok ? 'None' : 'ConditionalCheckFailed' };
        });
        if (reasons.some((r) => r.Code !== 'None')) {
          throw new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: {},
            CancellationReasons: reasons,
          });
        }
        for (const t of input.TransactItems ?? []) {
          if (t.Put) {
            const item = t.Put.Item as Item & { pk: string; sk: string };
            this.items.set(`${item.pk}|${item.sk}`, structuredClone(item));
          }
        }
        return {};
      }),
    );

    cloudwatch.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) =>
      this.call('cloudwatch.DescribeAlarms', () => {
        const names = (input.AlarmNames ?? []).filter((n) => this.alarms.has(n));
        return {
          MetricAlarms: names
            .filter((n) => n !== this.composite)
            .map((n) => ({ AlarmName: n, StateValue: this.alarms.get(n) })),
          CompositeAlarms: names
            .filter((n) => n === this.composite)
            .map((n) => ({ AlarmName: n, StateValue: this.alarms.get(n) })),
        };
      }),
    );
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) =>
      this.call('cloudwatch.GetMetricData', () => {
        const start = input.StartTime!.getTime();
        const end = Math.min(input.EndTime!.getTime(), this.now);
        const values: number[] = [];
        const timestamps: Date[] = [];
        for (let t = start; t + 60_000 <= end; t += 60_000) {
          timestamps.push(new Date(t));
          values.push(this.greenRequestsPerMinute(this.weights.green));
        }
        return {
          MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
            Id: q.Id,
            Values: values,
            Timestamps: timestamps,
            StatusCode: 'Complete' as const,
          })),
        };
      }),
    );
    cloudwatch.on(PutMetricDataCommand).callsFake((input: PutMetricDataCommandInput) =>
      this.call('cloudwatch.PutMetricData', () => {
        this.metrics.push(input);
        return {};
      }),
    );
    sfn.on(ListExecutionsCommand).callsFake((input: ListExecutionsCommandInput) =>
      this.call('sfn.ListExecutions', () => ({
        executions: [...this.executions.entries()]
          .filter(([, s]) => !input.statusFilter || s === input.statusFilter)
          .map(([executionArn, status]) => ({ executionArn, name: executionArn.split(':').pop(), status })),
      })),
    );
    sfn.on(StopExecutionCommand).callsFake((input: StopExecutionCommandInput) =>
      this.call('sfn.StopExecution', () => {
        if (this.executions.get(input.executionArn!) === 'RUNNING')
          this.executions.set(input.executionArn!, 'ABORTED');
        return {};
      }),
    );
    sns.on(PublishCommand).callsFake((input: PublishCommandInput) =>
      this.call('sns.Publish', () => {
        this.published.push(input);
        return { MessageId: `m-${this.published.length}` };
      }),
    );
  }

  /**
   * The invariants every writer must leave, whatever fault it met (after resuming as the real system
   * would). Returns the violations (empty: all hold).
   */
  violations(opts: { expectLeaseFree?: boolean } = {}): string[] {
    const v: string[] = [];
    const intent = this.intent as { weights?: Weights } | undefined;
    const w = this.weights;
    if (intent?.weights && (intent.weights.blue !== w.blue || intent.weights.green !== w.green)) {
      v.push(`rule ${JSON.stringify(w)} != intent ${JSON.stringify(intent.weights)}`);
    }
    for (const c of this.changes) {
      if (c.to.green > c.from.green && !c.gatesOpen)
        v.push(`green rose ${c.from.green}->${c.to.green} with gates closed`);
      if (c.to.green > c.from.green && !c.leaseHeld)
        v.push(`green rose ${c.from.green}->${c.to.green} without a lease`);
    }
    const lease = this.lease as { expiresAt?: number } | undefined;
    if (opts.expectLeaseFree !== false && lease && (lease.expiresAt ?? 0) * 1000 > this.now + 10 * 60_000) {
      v.push(
        `lease held until ${new Date((lease.expiresAt ?? 0) * 1000).toISOString()}: more than 10 minutes`,
      );
    }
    const plan = this.plan as { status?: string; planId?: string } | undefined;
    const running = [...this.executions.values()].includes('RUNNING');
    if (plan && ['running', 'aborting'].includes(plan.status ?? '') && !running) {
      v.push(`plan ${plan.planId} left ${plan.status} with no execution`);
    }
    return v;
  }
}
