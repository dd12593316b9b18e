import {
  assertPlan,
  formatPlan,
  GREEN_ALARM_WINDOW,
  MIN_BAKE_SECONDS,
  planProblems,
  PLAN_LIMITS,
} from '../../../lambda/rollout/plan';

describe('rollout plan validation', () => {
  it('accepts the team plan and a single step to 100%', () => {
    expect(planProblems([10, 25, 50, 100], 900)).toEqual([]);
    expect(planProblems([100], MIN_BAKE_SECONDS)).toEqual([]);
    expect(() => assertPlan([10, 25, 50, 100], 900)).not.toThrow();
  });

  it.each([
    [[], 600, /got 0 steps, expected 1 to 10/],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 600, /got 11 steps, expected 1 to 10/],
    [[0, 50], 600, /step 1: got 0, expected a green percentage from 1 to 100/],
    [[10, 101], 600, /step 2: got 101, expected a green percentage from 1 to 100/],
    [[10, 12.5], 600, /step 2: got 12.5/],
    [[25, 25], 600, /step 2: got 25 after 25, expected each step above the one before/],
    [[50, 25], 600, /step 2: got 25 after 50/],
    [[10], -1, /bake: got -1 seconds, expected 180 to 21600 \(6h\)/],
    [[10], 1.5, /bake: got 1.5 seconds/],
    [[10], PLAN_LIMITS.maxBakeSeconds + 1, /expected 180 to 21600/],
    [[10, 25, 50], 5 * 3600, /3 steps of 18000s bake 54000s in all, expected at most 43200s \(12h\)/],
  ])('rejects steps %j with bake %j', (steps, bake, message) => {
    expect(planProblems(steps, bake).join('; ')).toMatch(message);
    expect(() => assertPlan(steps, bake)).toThrow(message);
  });

  it('refuses a bake shorter than green alarms need to fire (2 one-minute datapoints + 60 s delay = 180 s)', () => {
    expect(MIN_BAKE_SECONDS).toBe(
      GREEN_ALARM_WINDOW.datapointsToAlarm * GREEN_ALARM_WINDOW.periodSeconds +
        GREEN_ALARM_WINDOW.metricDelaySeconds,
    );
    expect(MIN_BAKE_SECONDS).toBe(180);
    expect(planProblems([10, 100], 0).join('; ')).toMatch(
      /bake: got 0s, expected at least 180s: green's alarms need 2 one-minute datapoints/,
    );
    expect(planProblems([10, 100], 179)).toHaveLength(1);
    expect(planProblems([10, 100], 180)).toEqual([]);
  });

  it.each([
    [[10, 25, 100], [-1], /plan pause 1: got -1, expected a pause after a step and before the last step/],
    [[10, 25, 100], [2], /plan pause 1: got 2, expected a pause after a step and before the last step/],
    [[10, 25, 100], [0, 0], /plan pause 2: two pauses after step 1, expected one/],
    [[10, 25, 100], ['x'], /plan pause 1: got "x"/],
  ])('rejects steps %j with pauses %j', (steps, pauses, message) => {
    expect(planProblems(steps, 600, pauses).join('; ')).toMatch(message);
  });

  it('accepts pauses after any step but the last', () => {
    expect(planProblems([10, 25, 50, 100], 600, [0, 1, 2])).toEqual([]);
  });

  it('accepts the limits themselves', () => {
    expect(planProblems([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 600)).toEqual([]);
    expect(planProblems([10, 100], PLAN_LIMITS.maxBakeSeconds)).toEqual([]);
  });

  it('formats a plan for people, pauses included', () => {
    expect(formatPlan([10, 25, 50, 100])).toBe('10% -> 25% -> 50% -> 100%');
    expect(formatPlan([10, 25, 50, 100], [0])).toBe('10% -> pause -> 25% -> 50% -> 100%');
  });
});
