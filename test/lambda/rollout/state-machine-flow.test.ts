import { Template } from 'aws-cdk-lib/assertions';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type ModifyListenerCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runAction, type RolloutContext, type RolloutEvent } from '../../../lambda/rollout/handler';
import { CHECKS_SUMMARY_KEY } from '../../../lambda/shared/checks-summary';
import { PLAN_KEY } from '../../../lambda/shared/rollout-control';
import type { Weights } from '../../../lambda/shared/traffic';
import { buildRolloutStack, COMPOSITE, GREEN_ALARMS } from '../../lib/constructs/rollout-fixture';
import { listener, TARGET } from './fixtures';

/**
 * The synthesized state machine definition, run by a small interpreter (Task, Pass, Wait, Choice, Succeed,
 * Fail; Catch; ResultPath; the intrinsics the definition uses) against the real task handler with mocked
 * AWS clients and a simulated clock. Step Functions Local needs Docker/Java, which this environment has
 * not; this checks that the definition and the handler fit together: the plan's whole path, an alarm
 * firing mid-bake and an abort mid-step.
 */

type Json = Record<string, unknown>;
interface AslState {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: { Variable: string; BooleanEquals: boolean; Next: string }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Parameters?: Json;
  Result?: unknown;
  ResultPath?: string | null;
  Seconds?: number;
  SecondsPath?: string;
  Resource?: string;
  Error?: string;
  ErrorPath?: string;
}
interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
}

const { stack } = buildRolloutStack();
const definitionString = (() => {
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const ds = (
    Object.values(machines)[0] as { Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }
  ).Properties.DefinitionString;
  return ds['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'arn:aws:lambda:task')).join('');
})();
const ASL = JSON.parse(definitionString) as Asl;

function get(doc: unknown, path: string): unknown {
  if (path === '$') return doc;
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((o, k) => (o as Json | undefined)?.[k], doc);
}

function set(doc: Json, path: string | null | undefined, value: unknown): Json {
  if (path === null) return doc;
  if (path === undefined || path === '$') return value as Json;
  const copy = structuredClone(doc);
  const keys = path.slice(2).split('.');
  let o = copy;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Json;
  o[keys[keys.length - 1]!] = value;
  return copy;
}

function resolveParameters(params: unknown, input: Json, context: Json): unknown {
  if (typeof params !== 'object' || params === null) return params;
  const out: Json = {};
  for (const [k, v] of Object.entries(params as Json)) {
    if (!k.endsWith('.$')) {
      out[k] = resolveParameters(v, input, context);
      continue;
    }
    const expr = v as string;
    const math = /^States\.MathAdd\((\$[^,]*), (-?\d+)\)$/.exec(expr);
    if (math) out[k.slice(0, -2)] = (get(input, math[1]!) as number) + Number(math[2]);
    else if (expr.startsWith('States.Format')) out[k.slice(0, -2)] = expr;
    else if (expr.startsWith('$$.')) out[k.slice(0, -2)] = get(context, `$.${expr.slice(3)}`);
    else out[k.slice(0, -2)] = get(input, expr);
  }
  return out;
}

interface RunResult {
  readonly end: string;
  readonly output: Json;
  readonly path: string[];
}

async function runStateMachine(
  input: Json,
  ctx: RolloutContext,
  advance: (s: number) => void,
): Promise<RunResult> {
  const context = {
    Execution: { Id: 'arn:aws:states:us-east-1:111111111111:execution:sm:plan-1', Name: 'plan-1' },
  };
  let name = ASL.StartAt;
  let doc: Json = input;
  const path: string[] = [];
  for (let guard = 0; guard < 2000; guard++) {
    const s = ASL.States[name]!;
    path.push(name);
    switch (s.Type) {
      case 'Succeed':
      case 'Fail':
        return { end: name, output: doc, path };
      case 'Pass': {
        const value = s.Parameters ? resolveParameters(s.Parameters, doc, context) : s.Result;
        doc = set(doc, s.ResultPath, value);
        name = s.Next!;
        break;
      }
      case 'Wait': {
        advance(s.Seconds ?? (get(doc, s.SecondsPath!) as number));
        name = s.Next!;
        break;
      }
      case 'Choice': {
        const hit = s.Choices!.find((c) => get(doc, c.Variable) === c.BooleanEquals);
        name = hit ? hit.Next : s.Default!;
        break;
      }
      case 'Task': {
        try {
          let result: unknown;
          if (s.Resource === 'arn:aws:lambda:task') {
            result = await runAction(
              resolveParameters(s.Parameters, doc, context) as unknown as RolloutEvent,
              ctx,
            );
          } else {
            result = { snsPublished: true };
          }
          doc = set(doc, s.ResultPath, result);
          name = s.Next!;
        } catch (err) {
          const e = err as Error;
          const handler = s.Catch?.find(
            (c) => c.ErrorEquals.includes('States.ALL') || c.ErrorEquals.includes(e.name),
          );
          if (!handler) throw err;
          doc = set(doc, handler.ResultPath, {
            Error: e.name,
            Cause: JSON.stringify({ errorMessage: e.message }),
          });
          name = handler.Next;
        }
        break;
      }
      default:
        throw new Error(`unsupported state type ${s.Type}`);
    }
  }
  throw new Error('the state machine did not end');
}

// --- A small stateful environment behind the mocked clients. ---
const cw = mockClient(CloudWatchClient);
const ddb = mockClient(DynamoDBDocumentClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);
const rds = mockClient(RDSClient);
const sns = mockClient(SNSClient);

let clock = 0;
let weights: Weights;
let planItem: Json | undefined;
let alarmState: Record<string, string>;
let onModify: ((w: Weights) => void) | undefined;
const audit: Json[] = [];
const weightHistory: { at: number; w: Weights }[] = [];

const ctx: RolloutContext = {
  config: {
    envName: 'test',
    stateTableName: 'state',
    target: TARGET,
    alarmNames: [COMPOSITE, ...GREEN_ALARMS],
    checksMaxAgeSeconds: 900,
    checkIntervalSeconds: 30,
    dbInstanceIdentifier: 'nba-test',
    snapshotTimeoutSeconds: 7200,
    criticalTopicArn: 'critical',
    warningTopicArn: 'warning',
  },
  clients: {
    cloudwatch: new CloudWatchClient({}),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    elbv2: new ElasticLoadBalancingV2Client({}),
    ssm: new SSMClient({}),
    rds: new RDSClient({}),
    sns: new SNSClient({}),
  },
  now: () => new Date(Date.parse('2026-11-26T01:00:00.000Z') + clock * 1000),
};

function conditionHolds(input: UpdateCommandInput): boolean {
  const c = input.ConditionExpression ?? '';
  const v = input.ExpressionAttributeValues ?? {};
  if (!planItem) return false;
  if (c.includes('planId = :planId') && planItem.planId !== v[':planId']) return false;
  if (c.includes('#status = :required') && planItem.status !== v[':required']) return false;
  if (c.includes('#status = :running') && planItem.status !== 'running') return false;
  return true;
}

function applyUpdate(input: UpdateCommandInput): void {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  for (const assignment of input.UpdateExpression!.replace(/^SET /, '').split(', ')) {
    const [lhs, rhs] = assignment.split(' = ') as [string, string];
    planItem![names[lhs] ?? lhs] = values[rhs];
  }
}

beforeEach(() => {
  for (const m of [cw, ddb, elbv2, ssm, rds, sns]) m.reset();
  clock = 0;
  weights = { blue: 100, green: 0 };
  planItem = undefined;
  alarmState = {};
  onModify = undefined;
  audit.length = 0;
  weightHistory.length = 0;

  cw.on(DescribeAlarmsCommand).callsFake(() => ({
    MetricAlarms: GREEN_ALARMS.map((n) => ({ AlarmName: n, StateValue: alarmState[n] ?? 'OK' })),
    CompositeAlarms: [{ AlarmName: COMPOSITE, StateValue: alarmState[COMPOSITE] ?? 'OK' }],
  }));
  elbv2.on(DescribeListenersCommand).callsFake(() => listener(weights.blue, weights.green));
  elbv2
    .on(DescribeTargetHealthCommand)
    .resolves({ TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }] });
  elbv2.on(ModifyListenerCommand).callsFake((input: ModifyListenerCommandInput) => {
    const groups = input.DefaultActions![0]!.ForwardConfig!.TargetGroups!;
    weights = { blue: groups[0]!.Weight!, green: groups[1]!.Weight! };
    weightHistory.push({ at: clock, w: weights });
    onModify?.(weights);
    return {};
  });
  ssm.on(PutParameterCommand).resolves({});
  rds.on(DescribeDBSnapshotsCommand).callsFake((input: { DBSnapshotIdentifier?: string }) =>
    input.DBSnapshotIdentifier
      ? {
          DBSnapshots: [
            {
              DBSnapshotIdentifier: input.DBSnapshotIdentifier,
              Status: clock >= 60 ? 'available' : 'creating',
            },
          ],
        }
      : { DBSnapshots: [] },
  );
  rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'creating' } });
  sns.on(PublishCommand).resolves({});
  ddb.on(GetCommand).callsFake((input: { Key: Json }) => {
    if (input.Key.pk === CHECKS_SUMMARY_KEY.pk) {
      return { Item: { status: 'ok', checkedAt: ctx.now().toISOString(), problems: [] } };
    }
    if (input.Key.pk === PLAN_KEY.pk) return { Item: planItem ? structuredClone(planItem) : undefined };
    return {};
  });
  ddb.on(PutCommand).callsFake((input: { Item: Json }) => {
    if (input.Item.pk === PLAN_KEY.pk) planItem = structuredClone(input.Item);
    if (input.Item.pk === 'shift#audit') audit.push(input.Item);
    return {};
  });
  ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
    if (input.ConditionExpression && !conditionHolds(input)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    applyUpdate(input);
    return { Attributes: structuredClone(planItem) };
  });
  ddb.on(DeleteCommand).resolves({});
});

const request = (steps: number[], bakeSeconds: number) => ({
  request: { steps, bakeSeconds, actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice' },
});

describe('the rollout state machine, run against the task handler', () => {
  it('runs a plan to the end: snapshot, then each step gated, applied, audited and baked', async () => {
    const run = await runStateMachine(request([10, 50, 100], 120), ctx, (s) => (clock += s));

    expect(run.end).toBe('PlanSucceeded');
    expect(weights).toEqual({ blue: 0, green: 100 });
    expect(weightHistory.map((h) => h.w.green)).toEqual([10, 50, 100]);
    // The snapshot was available (t=60 s) before the first step.
    expect(weightHistory[0]!.at).toBeGreaterThanOrEqual(60);
    // Each step baked its full 120 s before the next one.
    expect(weightHistory[1]!.at - weightHistory[0]!.at).toBe(120);
    expect(weightHistory[2]!.at - weightHistory[1]!.at).toBe(120);
    expect(audit.map((a) => [a.kind, (a.to as Weights).green])).toEqual([
      ['plan-step', 10],
      ['plan-step', 50],
      ['plan-step', 100],
    ]);
    expect(planItem).toMatchObject({ status: 'succeeded', phase: 'done' });
    expect(run.path.filter((s) => s === 'StepGate')).toHaveLength(3);
    expect(run.path.filter((s) => s === 'BakeCheck')).toHaveLength(3 * 4);
  });

  it('alarm firing mid-bake: back to 100% blue within one check interval, audited and paged', async () => {
    const firesAt = 60 + 45; // 45 s into the first step's bake
    const run = await runStateMachine(request([10, 50, 100], 900), ctx, (s) => {
      clock += s;
      if (clock >= firesAt) alarmState[GREEN_ALARMS[0]!] = 'ALARM';
    });

    expect(run.end).toBe('PlanRolledBack');
    expect(run.output.error).toMatchObject({ Error: 'AlarmFiring' });
    expect(weights).toEqual({ blue: 100, green: 0 });
    const blueAgain = weightHistory.find((h) => h.w.green === 0)!;
    expect(blueAgain.at - firesAt).toBeLessThanOrEqual(30);
    expect(weightHistory.map((h) => h.w.green)).toEqual([10, 0]);
    expect(audit.map((a) => [a.kind, a.outcome])).toEqual([
      ['plan-step', 'applied'],
      ['plan-abort', 'rolled-back'],
    ]);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'critical',
      Subject: expect.stringContaining('ROLLED BACK'),
    });
    expect(planItem).toMatchObject({ status: 'rolled-back' });
  });

  it('abort mid-step: an abort that lands while step 2 is applied ends at 100% blue', async () => {
    onModify = (w) => {
      // The operator's --abort marks the plan while the listener change of step 2 is in flight.
      if (w.green === 50 && planItem) planItem.status = 'aborting';
    };
    const run = await runStateMachine(request([10, 50, 100], 60), ctx, (s) => (clock += s));

    expect(run.end).toBe('PlanRolledBack');
    expect(run.output.error).toMatchObject({ Error: 'PlanAborted' });
    expect(weights).toEqual({ blue: 100, green: 0 });
    expect(weightHistory.map((h) => h.w.green)).toEqual([10, 50, 0]);
    expect(audit.map((a) => a.kind)).toEqual(['plan-step', 'plan-abort']);
  });

  it('a closed gate before the snapshot stops the plan with traffic untouched', async () => {
    alarmState[COMPOSITE] = 'ALARM';
    const run = await runStateMachine(request([10, 100], 60), ctx, (s) => (clock += s));

    expect(run.end).toBe('PlanRolledBack');
    expect(run.path).not.toContain('StartSnapshot');
    expect(run.output.error).toMatchObject({ Error: 'GateClosed' });
    expect(elbv2).not.toHaveReceivedCommand(ModifyListenerCommand);
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(audit.map((a) => [a.kind, a.outcome])).toEqual([['plan-abort', 'refused']]);
  });

  it('a promote ends the current bake at the next check', async () => {
    const run = await runStateMachine(request([10, 100], 3600), ctx, (s) => {
      clock += s;
      if (planItem?.phase === 'baking' && planItem.stepIndex === 0 && clock >= 60 + 90) {
        planItem.promoteStep = 0;
      }
    });
    expect(run.end).toBe('PlanSucceeded');
    // Step 2 came at the first check after the promote, not after the hour.
    expect(weightHistory[1]!.at - weightHistory[0]!.at).toBeLessThanOrEqual(90 + 30);
  });
});
