import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Deployment } from '../../../cli/deployed';
import type { ShiftContext } from '../../../cli/shift/context';
import type { ShiftDeps } from '../../../cli/shift/deps';
import { EXIT } from '../../../cli/shift/exit-codes';
import { preflight } from '../../../cli/shift/preflight';
import { evaluateGates } from '../../../lambda/rollout/gates';
import { CHECKS_SUMMARY_KEY } from '../../../lambda/shared/checks-summary';
import { PARITY_GATE_ENV, PARITY_GATE_PARAMETER } from '../../../lambda/shared/parity-gate';

/**
 * The parity gate as the two traffic gates use it: the rollout's evaluateGates (pairs from the function's
 * environment) and the shift command's preflight (pairs from the deployment parameter), with every AWS call
 * mocked and the parity results in the state table's `parity` partition.
 */
const cw = mockClient(CloudWatchClient);
const ddb = mockClient(DynamoDBDocumentClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);

const NOW = Date.parse('2026-12-01T12:00:00Z');
const PAIRS = [{ name: 'games', maxDifferences: 0, maxAgeMinutes: 120 }];
const clients = {
  cloudwatch: new CloudWatchClient({}),
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  elbv2: new ElasticLoadBalancingV2Client({}),
};

function parityResults(items: Record<string, unknown>[]) {
  ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'parity', ':sk': 'pair#' } }).resolves({
    Items: items.map((i) => ({ pk: 'parity', sk: `pair#${String(i.pair)}`, ...i })),
  });
}

const result = (over: Record<string, unknown> = {}) => ({
  pair: 'games',
  status: 'identical',
  checkedAt: new Date(NOW - 5 * 60_000).toISOString(),
  differences: 0,
  maxDifferences: 0,
  onlyInBlue: 0,
  onlyInGreen: 0,
  changed: 0,
  duplicateKeys: { blue: 0, green: 0 },
  nullKeys: { blue: 0, green: 0 },
  rows: { blue: 5, green: 5 },
  comparedShare: 1,
  ...over,
});

beforeEach(() => {
  cw.reset();
  ddb.reset();
  elbv2.reset();
  cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  elbv2.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }],
  });
  ddb.on(GetCommand, { Key: CHECKS_SUMMARY_KEY }).resolves({
    Item: {
      ...CHECKS_SUMMARY_KEY,
      status: 'ok',
      checkedAt: new Date(NOW - 60_000).toISOString(),
      problems: [],
    },
  });
});

describe('rollout gates with parity pairs', () => {
  const gate = () =>
    evaluateGates(
      clients,
      { alarmNames: [], checksMaxAgeSeconds: 900, stateTableName: 'state', greenTargetGroupArn: 'tg-green' },
      new Date(NOW),
    );
  const saved = process.env[PARITY_GATE_ENV];
  beforeEach(() => (process.env[PARITY_GATE_ENV] = JSON.stringify(PAIRS)));
  afterAll(() => {
    if (saved === undefined) delete process.env[PARITY_GATE_ENV];
    else process.env[PARITY_GATE_ENV] = saved;
  });

  it('stay open when the latest result of every pair is clean and fresh', async () => {
    parityResults([result()]);
    expect(await gate()).toMatchObject({ open: true, problems: [] });
  });

  it('close on a difference, on a missing result, and on a stale one', async () => {
    parityResults([result({ status: 'different', differences: 1, changed: 1 })]);
    expect((await gate()).problems).toEqual([expect.stringMatching(/^parity games: 1 difference\(s\)/)]);
    parityResults([]);
    expect((await gate()).problems).toEqual([expect.stringMatching(/parity games: no result recorded yet/)]);
    parityResults([result({ checkedAt: new Date(NOW - 3 * 3600_000).toISOString() })]);
    expect((await gate()).problems).toEqual([
      expect.stringMatching(/parity games: last result .* within 120 min/),
    ]);
  });

  it('do not look at parity when no pair is configured', async () => {
    delete process.env[PARITY_GATE_ENV];
    expect(await gate()).toMatchObject({ open: true });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('shift preflight with parity pairs', () => {
  const deps = { ...clients, clock: { now: () => NOW } } as unknown as ShiftDeps;
  const ctx = (params: Record<string, string>) =>
    ({
      envName: 'prod',
      deployment: new Deployment('prod', new Map(Object.entries(params))),
      target: { greenTargetGroupArn: 'tg-green' },
      tableName: 'state',
      criticalTopicArn: 'arn:critical',
      greenAlarmNames: [],
      alarmPrefix: 'pipeline-guardrails-prod-',
    }) as unknown as ShiftContext;
  const withPairs = ctx({ [PARITY_GATE_PARAMETER]: JSON.stringify(PAIRS) });
  const run = (c: ShiftContext, over: { targetGreen?: number; force?: boolean } = {}) =>
    preflight(deps, c, { targetGreen: 25, currentGreen: 0, force: false, checksMaxAgeMs: 900_000, ...over });

  it('refuses with its own exit code when green would rise over a failed pair', async () => {
    parityResults([
      result({ status: 'error', failure: 'missing-object: relation unified.games does not exist' }),
    ]);
    const report = await run(withPairs);
    expect(report.refusals).toEqual([
      {
        code: EXIT.PARITY_NOT_CLEAN,
        gate: 'parity',
        message: expect.stringMatching(/parity games: could not compare .*unified\.games does not exist/),
      },
    ]);
    expect(report.refusals[0]?.code).toBe(EXIT.PARITY_NOT_CLEAN);
    expect(EXIT.PARITY_NOT_CLEAN).toBe(16);
  });

  it('lets --force past, recorded as forced, and passes clean results', async () => {
    parityResults([result({ status: 'different', differences: 4, onlyInBlue: 4 })]);
    const forced = await run(withPairs, { force: true });
    expect(forced.refusals).toEqual([]);
    expect(forced.forcedPast).toEqual([expect.stringMatching(/^parity games: 4 difference\(s\)/)]);
    parityResults([result()]);
    expect((await run(withPairs)).refusals).toEqual([]);
  });

  it('does not gate a shift back to blue, nor an environment that deployed no pair', async () => {
    parityResults([]);
    expect((await run(withPairs, { targetGreen: 0 })).refusals).toEqual([]);
    expect((await run(ctx({}))).refusals).toEqual([]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
