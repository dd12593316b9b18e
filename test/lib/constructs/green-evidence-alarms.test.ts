import { loadConfig } from '../../../lib/config';
import { evaluateExpression, simulate, type MetricId, type Sample } from '../../support/alarm-simulator';
import { synthEnvironment } from '../../support/app';
import { baseline, override } from '../../support/paging-scenarios';

/**
 * Evidence before promotion, on the synthesized prod template run by the alarm simulator: green's error-rate
 * and p95 alarms judge a minute only when green served at least `routing.serviceLevels.minRequestsPerMinute`
 * requests in it; a quieter window is INSUFFICIENT_DATA (no page, and no pass for the rollout's gates).
 */
const config = loadConfig('prod');
const N = config.routing.serviceLevels.minRequestsPerMinute;
const template = synthEnvironment(config).guardrails.toJSON();
const prefix = 'pipeline-guardrails-prod-routing';
const ERROR_RATE = `${prefix}-green-error-rate`;
const LATENCY = `${prefix}-green-latency-p95`;
const horizon = 3 * 3600;
const t0 = 3600;

const isGreen = (m: MetricId) => m.namespace === 'AWS/ApplicationELB' && /Green/.test(JSON.stringify(m.dims));

/** Green's load-balancer metrics from t0 on: `requests` a minute, of which `errors` 5xx, p95 `p95` s. */
function green(requests: number, errors: number, p95 = 0.4) {
  return override(baseline(config, { horizon }), t0, (m, s): readonly Sample[] | undefined => {
    if (!isGreen(m)) return undefined;
    const at = (value: number) => s.map((x) => ({ ...x, value }));
    switch (m.name) {
      case 'RequestCount':
        return at(requests);
      case 'HTTPCode_Target_5XX_Count':
        return at(errors);
      case 'TargetResponseTime':
        return at(p95);
      default:
        return undefined;
    }
  });
}

const run = (series: ReturnType<typeof green>) =>
  simulate(template, { series, greenWeight: 10 }, { horizonSeconds: horizon });

describe("green's ratio alarms need a minimum of requests per minute", () => {
  it('has a documented default of 10 requests a minute', () => {
    expect(N).toBe(10);
  });

  it('the simulator models IF with two arguments: no datapoint when the condition is false', () => {
    expect(evaluateExpression('IF(r >= 10, 100 * e / r)', { r: 1, e: 1 })).toBeUndefined();
    expect(evaluateExpression('IF(r >= 10, 100 * e / r)', { r: 20, e: 1 })).toBe(5);
  });

  it('one 5xx in one request a minute at a 10% step does not page, and leaves the alarm INSUFFICIENT_DATA', () => {
    const result = run(green(1, 1));
    expect(result.pages.filter((p) => p.source.includes('green'))).toEqual([]);
    expect(result.finalStates[ERROR_RATE]).toBe('INSUFFICIENT_DATA');
  });

  it(`a real 5% error rate over at least ${N} requests a minute pages once (the rollback's result is mail)`, () => {
    const result = run(green(20, 1));
    expect(result.pages.map((p) => p.source)).toEqual([ERROR_RATE]);
    // 2 of 3 one-minute datapoints: the page comes in the second or third minute after the first bad one.
    expect(result.pages[0]!.t - t0).toBeLessThanOrEqual(180);
  });

  it('just below the minimum is not judged; exactly the minimum is', () => {
    expect(run(green(N - 1, N - 1)).pages).toEqual([]);
    expect(run(green(N, 1)).pages.map((p) => p.source)).toContain(ERROR_RATE);
  });

  it('a slow p95 on too few requests does not page; on enough requests it does', () => {
    expect(run(green(1, 0, 30)).finalStates[LATENCY]).toBe('INSUFFICIENT_DATA');
    expect(run(green(1, 0, 30)).pages).toEqual([]);
    expect(run(green(N, 0, 30)).pages.map((p) => p.source)).toContain(LATENCY);
  });

  it('a healthy green with enough requests is OK (evidence), with none it is INSUFFICIENT_DATA (no evidence)', () => {
    expect(run(green(50, 0)).finalStates[ERROR_RATE]).toBe('OK');
    expect(run(green(0, 0)).finalStates[ERROR_RATE]).toBe('INSUFFICIENT_DATA');
  });

  it("leaves blue's error rate as it was: judged on any request (blue's traffic is the production floor)", () => {
    const alarms = Object.values(
      template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const blue = alarms.find((a) => a.Properties.AlarmName === `${prefix}-blue-error-rate`)!;
    const greenAlarm = alarms.find((a) => a.Properties.AlarmName === ERROR_RATE)!;
    expect(blue.Properties.TreatMissingData).toBe('notBreaching');
    expect(greenAlarm.Properties.TreatMissingData).toBe('missing');
    expect(JSON.stringify(greenAlarm.Properties.Metrics)).toContain(`IF(greenRequests >= ${N},`);
  });
});
