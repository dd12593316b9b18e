import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  applyWeights,
  InvalidWeightsError,
  parseWeightsParameter,
  readListenerWeights,
  weightProblems,
  type TrafficTarget,
} from '../../../lambda/shared/traffic';

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);
const target: TrafficTarget = {
  listenerArn: 'arn:listener',
  blueTargetGroupArn: 'arn:tg/blue',
  greenTargetGroupArn: 'arn:tg/green',
  weightsParameterName: '/pipeline-guardrails/dev/routing/weights',
};

function listenerWith(blue: number, green: number) {
  return {
    Listeners: [
      {
        ListenerArn: 'arn:listener',
        DefaultActions: [
          {
            Type: 'forward' as const,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: 'arn:tg/blue', Weight: blue },
                { TargetGroupArn: 'arn:tg/green', Weight: green },
              ],
            },
          },
        ],
      },
    ],
  };
}

beforeEach(() => {
  elbv2.reset();
  ssm.reset();
});

describe('weights validation', () => {
  it.each([
    [{ blue: 90, green: 10 }, []],
    [{ blue: 100, green: 0 }, []],
    [{ blue: 90, green: 20 }, [/sum of 100/]],
    [{ blue: -10, green: 110 }, [/blue weight: got -10/, /green weight: got 110/]],
    [{ blue: 50.5, green: 49.5 }, [/blue weight: got 50.5, expected an integer/, /green weight/]],
    [{ blue: '50', green: 50 }, [/blue weight: got "50"/]],
  ])('%j -> %p', (w, expected) => {
    const problems = weightProblems(w);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(problems[i]).toMatch(re));
  });

  it('parses the parameter JSON and refuses anything else', () => {
    expect(parseWeightsParameter('{"blue":75,"green":25}')).toEqual({ blue: 75, green: 25 });
    expect(() => parseWeightsParameter('75')).toThrow(InvalidWeightsError);
    expect(() => parseWeightsParameter('not json')).toThrow(/expected JSON/);
  });
});

describe('listener weights', () => {
  it('reads the weights the listener applies as percentages', async () => {
    elbv2.on(DescribeListenersCommand).resolves(listenerWith(3, 1));
    await expect(readListenerWeights(elbv2 as never, target)).resolves.toEqual({ blue: 75, green: 25 });
  });

  it('refuses a listener that does not forward to the green target group', async () => {
    elbv2.on(DescribeListenersCommand).resolves({
      Listeners: [
        {
          DefaultActions: [
            {
              Type: 'forward',
              ForwardConfig: { TargetGroups: [{ TargetGroupArn: 'arn:tg/blue', Weight: 1 }] },
            },
          ],
        },
      ],
    });
    await expect(readListenerWeights(elbv2 as never, target)).rejects.toThrow(
      /does not forward to arn:tg\/green/,
    );
  });

  it('applies the listener first, then the source-of-truth parameter, and reads back', async () => {
    elbv2.on(ModifyListenerCommand).resolves({});
    elbv2.on(DescribeListenersCommand).resolves(listenerWith(75, 25));
    ssm.on(PutParameterCommand).resolves({});
    const after = await applyWeights({ elbv2: elbv2 as never, ssm: ssm as never }, target, {
      blue: 75,
      green: 25,
    });
    expect(after).toEqual({ blue: 75, green: 25 });
    expect(elbv2).toHaveReceivedCommandWith(ModifyListenerCommand, {
      ListenerArn: 'arn:listener',
      DefaultActions: [
        expect.objectContaining({
          Type: 'forward',
          ForwardConfig: expect.objectContaining({
            TargetGroups: [
              { TargetGroupArn: 'arn:tg/blue', Weight: 75 },
              { TargetGroupArn: 'arn:tg/green', Weight: 25 },
            ],
          }),
        }),
      ],
    });
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: target.weightsParameterName,
      Value: '{"blue":75,"green":25}',
      Overwrite: true,
    });
  });

  it('says the listener moved but the parameter did not when the parameter write fails', async () => {
    elbv2.on(ModifyListenerCommand).resolves({});
    ssm.on(PutParameterCommand).rejects(new Error('AccessDenied'));
    await expect(
      applyWeights({ elbv2: elbv2 as never, ssm: ssm as never }, target, { blue: 100, green: 0 }),
    ).rejects.toThrow(/listener now applies blue 100% \/ green 0%.*not updated \(AccessDenied\)/);
  });

  it('refuses invalid weights before any AWS call', async () => {
    await expect(
      applyWeights({ elbv2: elbv2 as never, ssm: ssm as never }, target, { blue: 60, green: 60 }),
    ).rejects.toThrow(InvalidWeightsError);
    expect(elbv2.calls()).toHaveLength(0);
  });
});
