import { assertPlan, formatPlan, planProblems, PLAN_LIMITS } from '../../../lambda/rollout/plan';

describe('rollout plan validation', () => {
  it('accepts the team plan and a single step to 100%', () => {
    expect(planProblems([10, 25, 50, 100], 900)).toEqual([]);
    expect(planProblems([100], 0)).toEqual([]);
    expect(() => assertPlan([10, 25, 50, 100], 900)).not.toThrow();
  });

  it.each([
    [[], 60, /got 0 steps, expected 1 to 10/],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 60, /got 11 steps, expected 1 to 10/],
    [[0, 50], 60, /step 1: got 0, expected a green percentage from 1 to 100/],
    [[10, 101], 60, /step 2: got 101, expected a green percentage from 1 to 100/],
    [[10, 12.5], 60, /step 2: got 12.5/],
    [[25, 25], 60, /step 2: got 25 after 25, expected each step above the one before/],
    [[50, 25], 60, /step 2: got 25 after 50/],
    [[10], -1, /bake: got -1 seconds, expected 0 to 21600 \(6h\)/],
    [[10], 1.5, /bake: got 1.5 seconds/],
    [[10], PLAN_LIMITS.maxBakeSeconds + 1, /expected 0 to 21600/],
    [[10, 25, 50], 5 * 3600, /3 steps of 18000s bake 54000s in all, expected at most 43200s \(12h\)/],
  ])('rejects steps %j with bake %j', (steps, bake, message) => {
    expect(planProblems(steps, bake).join('; ')).toMatch(message);
    expect(() => assertPlan(steps, bake)).toThrow(message);
  });

  it('accepts the limits themselves', () => {
    expect(planProblems([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 60)).toEqual([]);
    expect(planProblems([10, 100], PLAN_LIMITS.maxBakeSeconds)).toEqual([]);
  });

  it('formats a plan for people', () => {
    expect(formatPlan([10, 25, 50, 100])).toBe('10% -> 25% -> 50% -> 100%');
  });
});
