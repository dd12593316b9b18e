import { Template } from 'aws-cdk-lib/assertions';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  runAction,
  type RolloutConfig,
  type RolloutContext,
  type RolloutEvent,
} from '../../lambda/rollout/handler';
import { MIN_BAKE_SECONDS } from '../../lambda/rollout/plan';
import { buildRolloutStack } from '../lib/constructs/rollout-fixture';
import type { TrafficWorld } from './traffic-world';

/**
 * The SYNTHESIZED rollout state machine, run by aws-local-stepfunctions (a maintained ASL interpreter:
 * Retry, Catch, Choice, Wait, intrinsic functions such as States.Format and States.MathAdd), with every
 * Lambda task overridden to call the real task handler against the in-memory world. Wait states take no
 * real time; the world's clock moves by what each Wait would have waited. SNS tasks of the definition
 * (the rollback-failed page) publish into the world.
 */
const { stack } = buildRolloutStack();
const template = Template.fromStack(stack).toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};

function definitionOf(): StateMachineDefinition {
  const machine = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  const ds = machine!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = ds['Fn::Join'][1]
    .map((p) => (typeof p === 'string' ? p : 'arn:aws:lambda:us-east-1:111111111111:function:task'))
    .join('');
  return JSON.parse(text) as StateMachineDefinition;
}

export const ROLLOUT_DEFINITION = definitionOf();

type AslState = { Type: string; Resource?: string; Parameters?: Record<string, unknown> };
const states = (ROLLOUT_DEFINITION as unknown as { States: Record<string, AslState> }).States;
const lambdaTasks = Object.entries(states).filter(
  ([, s]) => s.Type === 'Task' && String(JSON.stringify(s.Resource)).includes('lambda'),
);
const snsTasks = Object.entries(states).filter(
  ([, s]) => s.Type === 'Task' && String(s.Resource).includes('sns'),
);
const waits = Object.entries(states)
  .filter(([, s]) => s.Type === 'Wait')
  .map(([n]) => n);

// Validating the definition is the slow part of aws-local-stepfunctions: once per test file.
const machine = new StateMachine(ROLLOUT_DEFINITION, {
  validationOptions: { checkArn: false, checkPaths: false },
});

export function rolloutConfig(world: TrafficWorld, overrides: Partial<RolloutConfig> = {}): RolloutConfig {
  return {
    envName: world.envName,
    stateTableName: world.tableName,
    target: world.target,
    alarmNames: world.alarmNames,
    checksMaxAgeSeconds: 900,
    checkIntervalSeconds: 30,
    dbInstanceIdentifier: 'nba-test',
    snapshotTimeoutSeconds: 3600,
    criticalTopicArn: 'arn:aws:sns:us-east-1:111111111111:critical',
    warningTopicArn: 'arn:aws:sns:us-east-1:111111111111:warning',
    minRequestsPerStep: 100,
    evidenceWaitSeconds: 1800,
    minBakeSeconds: MIN_BAKE_SECONDS,
    ...overrides,
  };
}

export function rolloutContext(world: TrafficWorld, config = rolloutConfig(world)): RolloutContext {
  return {
    config,
    clients: {
      cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
      doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      rds: new RDSClient({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
    },
    now: () => new Date(world.now),
  };
}

export interface PlanRun {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: string;
  /** The task states entered, in order. */
  readonly path: string[];
}

/**
 * Runs one execution of the plan. `beforeTask(state, n)` runs before the n-th task call (flip alarms,
 * abort). A task call that meets a crash is a failed Lambda invocation to Step Functions (the world
 * revives for the next attempt).
 */
export async function runPlan(
  world: TrafficWorld,
  request: {
    steps: number[];
    bakeSeconds: number;
    actor?: string;
    forcedAlarms?: string[];
    pauses?: number[];
    retryOf?: string;
  },
  opts: { name?: string; beforeTask?: (state: string, n: number) => void; config?: RolloutConfig } = {},
): Promise<PlanRun> {
  const name = opts.name ?? 'plan-1';
  const executionArn = `${world.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  world.executions.set(executionArn, 'RUNNING');
  const ctx = rolloutContext(world, opts.config);
  const path: string[] = [];
  let n = 0;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const control: { abort?: () => void } = {};
  const stopped = () => world.executions.get(executionArn) === 'ABORTED';
  for (const [stateName] of lambdaTasks) {
    handlers[stateName] = async (input) => {
      const event = input as RolloutEvent;
      // A stopped execution runs no further state (StopExecution).
      if (stopped()) {
        control.abort?.();
        return new Promise(() => undefined);
      }
      path.push(stateName);
      opts.beforeTask?.(stateName, n++);
      // The world's clock moves by what the Wait before this task would have waited.
      if (event.action === 'bake-check') world.now += (event.state.step?.nextWaitSeconds ?? 0) * 1000;
      if (event.action === 'snapshot-status') world.now += 30_000;
      world.revive();
      let result: unknown;
      let error: unknown;
      try {
        result = await runAction(event, ctx);
      } catch (err) {
        error = err;
      }
      // A crash fails the invocation whatever the handler caught afterwards (Lambda.Unknown).
      const crashed = world.hasCrashed;
      world.revive();
      if (crashed) throw Object.assign(new Error('the function crashed'), { name: 'Lambda.Unknown' });
      if (error) throw error;
      return result as never;
    };
  }
  for (const [stateName] of snsTasks) {
    handlers[stateName] = async (input) => {
      path.push(stateName);
      world.published.push({ Message: JSON.stringify(input), TopicArn: 'direct' });
      return {};
    };
  }
  const execution = machine.run(
    { request: { actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice', ...request } },
    {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: Object.fromEntries(waits.map((w) => [w, 0])),
        retryIntervalOverrides: Object.fromEntries(lambdaTasks.map(([s]) => [s, 0])),
      },
      context: { Execution: { Id: executionArn, Name: name } } as never,
      noThrowOnAbort: true,
    },
  );
  control.abort = execution.abort;
  try {
    const output = await execution.result;
    if (stopped()) return { status: 'FAILED', error: 'aborted (StopExecution)', path };
    world.executions.set(
      executionArn,
      world.executions.get(executionArn) === 'ABORTED' ? 'ABORTED' : 'SUCCEEDED',
    );
    return { status: 'SUCCEEDED', output, path };
  } catch (err) {
    if (world.executions.get(executionArn) === 'RUNNING') world.executions.set(executionArn, 'FAILED');
    return { status: 'FAILED', error: err instanceof Error ? err.message : String(err), path };
  }
}
