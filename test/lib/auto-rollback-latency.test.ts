import { autoRollback } from '../../lambda/auto-rollback/handler';
import { loadConfig } from '../../lib/config';
import { synthEnvironment } from '../support/app';
import { simulate } from '../support/alarm-simulator';
import { baseline, override } from '../support/paging-scenarios';
import { TrafficWorld } from '../support/traffic-world';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * How fast the automatic rollback takes green out of traffic (issue 12), by formula from the SYNTHESIZED
 * alarm settings, checked on a fake clock:
 *
 *   first bad minute -> 100% blue  =  D x P  +  I  +  E  +  B  +  C  +  H
 *
 * D x P: the alarm needs D breaching datapoints of P seconds (green's error rate: 2 of 3 one-minute periods;
 *        ALB metrics are 1-minute, so nothing faster is possible with D = 2); the D-th is complete at D x P.
 * I:     until CloudWatch can evaluate that datapoint (ALB publication; assumed INGEST_S).
 * E:     until the next evaluation of the alarm (CloudWatch evaluates about once a minute; its phase is not
 *        known: 0 to 60 s, every phase is enumerated).
 * B:     EventBridge delivery of the state change to the function (assumed DELIVERY_S).
 * C:     cold start of the function (assumed COLD_START_S).
 * H:     the handler's own calls up to ModifyRule, run for real on a clock each mocked AWS call advances.
 *
 * The figures are assumptions where AWS publishes no bound (I, B, C): the README states them.
 */
const INGEST_S = 20;
const DELIVERY_S = 1;
const COLD_START_S = 1.5;
/** Seconds each AWS call takes on the fake clock (generous in-region figures). */
const CALL_S: Record<string, number> = {
  ddb: 0.05,
  'elbv2.DescribeRules': 0.15,
  'elbv2.ModifyRule': 0.3,
  sfn: 0.1,
  sns: 0.1,
  cloudwatch: 0.05,
};
const callSeconds = (command: string) => CALL_S[command] ?? CALL_S[command.split('.')[0]!] ?? 0.1;

const config = loadConfig('prod');
const template: Json = synthEnvironment(config).guardrails.toJSON();
const alarmNamed = (name: string): Json =>
  Object.values(template.Resources as Record<string, Json>).find(
    (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === name,
  )?.Properties;

/** Period (s) and datapoints to alarm of an alarm, as synthesized (single metric or metric math). */
function settings(name: string): { period: number; datapoints: number } {
  const p = alarmNamed(name);
  if (!p) throw new Error(`no alarm ${name}`);
  const periods: number[] = p.Period
    ? [p.Period]
    : (p.Metrics ?? []).flatMap((m: Json) =>
        m.MetricStat ? [m.MetricStat.Period] : m.Period ? [m.Period] : [],
      );
  return { period: Math.max(...periods), datapoints: p.DatapointsToAlarm ?? p.EvaluationPeriods };
}

/** Runs the real handler on a fake clock; seconds from the alarm's state change to ModifyRule. */
async function alarmToListenerSeconds(opts: { throttledWrites: number }): Promise<number> {
  const world = new TrafficWorld({ blue: 90, green: 10 }, 'prod');
  const alarmAt = world.now;
  // Armed: green rose 10 minutes before the alarm.
  world.greenRaised(600_000);
  world.now += (DELIVERY_S + COLD_START_S) * 1000;
  let modifiedAt: number | undefined;
  let throttled = 0;
  world.onCall = (command, index) => {
    world.now += callSeconds(command) * 1000;
    if (command === 'elbv2.ModifyRule') {
      if (throttled < opts.throttledWrites) {
        throttled++;
        world.fault = { index, kind: 'error' };
      } else modifiedAt ??= world.now;
    }
  };
  const name = `pipeline-guardrails-prod-routing-green-error-rate`;
  const result = await autoRollback(
    {
      id: 'e',
      time: new Date(alarmAt).toISOString(),
      detail: { alarmName: name, state: { value: 'ALARM', timestamp: new Date(alarmAt).toISOString() } },
    },
    {
      config: {
        envName: 'prod',
        stateTableName: world.tableName,
        target: world.target,
        stateMachineArn: world.stateMachineArn,
        resultTopicArn: world.warningTopicArn,
        triggers: new Map([[name, ['green-error-rate' as const]]]),
        watchHours: 24,
        actor: 'auto-rollback',
      },
      clients: world.autoRollbackClients(),
      now: () => new Date(world.now),
      sleep: async (ms) => {
        world.now += ms;
      },
    },
  );
  expect(result.action).toBe('rolled-back');
  expect(world.weights).toEqual({ blue: 100, green: 0 });
  return (modifiedAt! - alarmAt) / 1000;
}

describe('auto-rollback latency by formula, on a fake clock (prod, synthesized alarms)', () => {
  const green = settings('pipeline-guardrails-prod-routing-green-error-rate');

  it("green's error-rate alarm: 1-minute ALB datapoints, 2 to alarm", () => {
    expect(green).toEqual({ period: 60, datapoints: 2 });
  });

  it('alarm -> listener change: at most 10 s, even with a cold start and two throttled writes', async () => {
    const nominal = await alarmToListenerSeconds({ throttledWrites: 0 });
    const throttled = await alarmToListenerSeconds({ throttledWrites: 2 });
    // B + C + the handler's calls before ModifyRule (reads, plan mark, listener read, intent write).
    expect(nominal).toBeGreaterThan(DELIVERY_S + COLD_START_S);
    expect(nominal).toBeLessThanOrEqual(4);
    // Two retries after 400 and 800 ms of backoff, each with a fresh read of the listener and the intent.
    expect(throttled).toBeGreaterThan(nominal + 1.2);
    expect(throttled).toBeLessThanOrEqual(10);
  });

  it('first bad minute -> 100% blue: at most 3 min on average over the evaluation phase, at most 3 min 25 s at its worst', async () => {
    const h = await alarmToListenerSeconds({ throttledWrites: 0 });
    // The bad datapoint D is complete at D x P and visible I later; the evaluation runs at phase φ of each
    // minute (after the bad minutes start at 0): the first evaluation at or after visibility sees it.
    const visible = green.datapoints * green.period + INGEST_S;
    const totals: number[] = [];
    for (let phase = 0; phase < 60; phase++) {
      let evaluation = phase;
      while (evaluation < visible) evaluation += 60;
      totals.push(evaluation + h);
    }
    const best = Math.min(...totals);
    const worst = Math.max(...totals);
    const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
    // The formula: best D·P + I + H (no wait for the evaluation), worst + 59 s.
    expect(best).toBeCloseTo(visible + h, 5);
    expect(worst).toBeCloseTo(visible + 59 + h, 5);
    expect(mean).toBeLessThanOrEqual(180); // the goal, on average over the unknown phase
    expect(worst).toBeLessThanOrEqual(205); // and its bound: the goal is missed by up to 25 s at the worst phase
  });
});

describe('auto-rollback failure: one page (prod, synthesized alarms)', () => {
  const horizon = 3 * 3600;
  const t0 = 3600;

  it('a run that fails, is retried twice by Lambda and dead-lettered pages exactly once (auto-rollback-failed)', () => {
    const failedName = 'pipeline-guardrails-prod-rollout-auto-rollback-failed';
    const failed = alarmNamed(failedName);
    expect(failed).toMatchObject({ EvaluationPeriods: 5, DatapointsToAlarm: 1 });
    const base = baseline(config, { horizon });
    const isAutoRollback = (dims: Record<string, string>) => /AutoRollback/.test(JSON.stringify(dims));
    // Lambda async: the run at t0 fails, retries after about 1 and 2 more minutes fail, then the event is
    // dead-lettered and stays in the queue.
    const failures = new Set([t0, t0 + 60, t0 + 180]);
    const series = override(base, t0, (m, s) => {
      if (m.namespace === 'AWS/Lambda' && m.name === 'Errors' && isAutoRollback(m.dims))
        return s.map((x) => ({ ...x, value: failures.has(x.t) ? 1 : 0 }));
      if (m.namespace === 'AWS/SQS' && isAutoRollback(m.dims))
        return s.map((x) => ({ ...x, value: x.t >= t0 + 240 ? 1 : 0 }));
      return undefined;
    });
    const { pages, transitions } = simulate(template, { series }, { horizonSeconds: horizon });
    expect(pages.map((p) => p.source)).toEqual([failedName]);
    expect(transitions.filter((t) => t.alarmName === failedName).map((t) => t.to)).toEqual(['OK', 'ALARM']);
  });
});
