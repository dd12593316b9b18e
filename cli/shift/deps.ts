import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { hostname } from 'node:os';
import { takeSnapshot } from '../../lambda/snapshots/take-snapshot';
import { realClock, type Clock } from '../../lambda/snapshots/retry';

/** Everything the shift command touches outside the process; tests pass mocked clients and a fake clock. */
export interface ShiftDeps {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  readonly cloudwatch: CloudWatchClient;
  readonly doc: DynamoDBDocumentClient;
  readonly rds: RDSClient;
  readonly sns: SNSClient;
  readonly sts: STSClient;
  readonly ecs: ECSClient;
  /** Stops a running rollout plan on --rollback. */
  readonly sfn: SFNClient;
  /** Time and waiting: tests run a 15-minute bake instantly. */
  readonly clock: Clock;
  /** The snapshot capability (lambda/snapshots/take-snapshot.ts). */
  readonly takeSnapshot: typeof takeSnapshot;
  /** How often the bake polls green's alarms and the snapshot its status. @default 15000 */
  readonly pollIntervalMs: number;
  /** Names this run in the lock (with the caller's ARN and the process id). */
  readonly host: string;
  readonly pid: number;
}

/** Ctrl-C during a wait (snapshot or bake): the command stops waiting, releases its lock and says where traffic is. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted (Ctrl-C)');
    this.name = 'InterruptedError';
  }
}

/** A sleep that Ctrl-C ends with InterruptedError; outside waits, Ctrl-C keeps its default meaning. */
function interruptibleSleep(ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onInterrupt = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      process.removeListener('SIGINT', onInterrupt);
      resolve();
    }, ms);
    process.once('SIGINT', onInterrupt);
  });
}

export function createShiftDeps(region: string): ShiftDeps {
  const common = { region };
  return {
    elbv2: new ElasticLoadBalancingV2Client(common),
    ssm: new SSMClient(common),
    cloudwatch: new CloudWatchClient(common),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient(common), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    rds: new RDSClient(common),
    sns: new SNSClient(common),
    sts: new STSClient(common),
    ecs: new ECSClient(common),
    sfn: new SFNClient(common),
    clock: { now: () => Date.now(), sleep: interruptibleSleep },
    takeSnapshot,
    pollIntervalMs: 15_000,
    host: hostname(),
    pid: process.pid,
  };
}

/**
 * What the plan commands (cli/shift/plan.ts) use of the same deps: tests pass only these. The plan runs in
 * the environment, so its clock sleeps plainly (Ctrl-C during --follow only detaches the terminal).
 */
export type PlanDeps = Pick<
  ShiftDeps,
  'sfn' | 'ssm' | 'doc' | 'cloudwatch' | 'elbv2' | 'sns' | 'sts' | 'clock'
> & {
  /** How often `--follow` polls the execution, the plan item and the alarms. @default 5000 */
  readonly pollIntervalMs?: number;
  /** Random suffix of execution names (tests pin it). */
  readonly random?: () => string;
};

export function createPlanDeps(region: string): PlanDeps {
  return { ...createShiftDeps(region), clock: realClock, pollIntervalMs: 5000 };
}
