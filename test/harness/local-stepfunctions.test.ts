import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

// The ASL interpreter the state-machine tests use runs here (Node 20 with the polyfill in test/setup).
describe('aws-local-stepfunctions on this Node', () => {
  it('runs Retry and Catch of a definition with a Task override', async () => {
    const definition: StateMachineDefinition = {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:work',
          Retry: [{ ErrorEquals: ['Throttled'], MaxAttempts: 2, IntervalSeconds: 0 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }],
          End: true,
        },
        Failed: { Type: 'Pass', Result: 'caught', End: true },
      },
    };
    let calls = 0;
    const machine = new StateMachine(definition);
    const run = machine.run(
      { n: 1 },
      {
        overrides: {
          taskResourceLocalHandlers: {
            Work: async (input) => {
              calls += 1;
              if (calls < 2) throw Object.assign(new Error('slow down'), { name: 'Throttled' });
              return { n: (input as { n: number }).n + 1 };
            },
          },
        },
      },
    );
    await expect(run.result).resolves.toEqual({ n: 2 });
    expect(calls).toBe(2);
  });
});
