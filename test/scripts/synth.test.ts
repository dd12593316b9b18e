import { Annotations, App, CfnResource, Stack } from 'aws-cdk-lib';
import { ConfigError } from '../../lib/config';
import { cdkCliContext, messagesOf, parseSynthArgs, runSynth, type SynthTiming } from '../../scripts/synth';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

describe('npm run synth arguments', () => {
  it('no argument means every environment; names select, in order, once', () => {
    expect(parseSynthArgs([])).toEqual(['dev', 'staging', 'prod']);
    expect(parseSynthArgs(['prod', 'dev', 'prod'])).toEqual(['prod', 'dev']);
  });

  it.each([
    [['--env', 'prod'], /not options: got "--env"; write npm run synth -- prod/],
    [['-c', 'env=staging'], /not options: got "-c"; write npm run synth -- staging/],
    [['-c', 'env=prod', '-c', 'env=dev'], /not options: got "-c"; write npm run synth -- prod/],
    [['--context=env=dev'], /write npm run synth -- dev/],
    [['qa'], /got "qa", expected environment names from dev, staging, prod/],
  ])('%j is answered in the syntax of npm run synth (exit 2, nothing synthesized)', (argv, message) => {
    const c = capture();
    const synth = jest.fn();
    expect(runSynth(argv, c.io, '/nonexistent', synth)).toBe(2);
    expect(c.err.join('')).toMatch(message);
    expect(c.err.join('')).not.toMatch(/pass -c env/);
    expect(synth).not.toHaveBeenCalled();
  });
});

describe('npm run synth output', () => {
  it('prints every warning with its environment, path and acknowledgement id, and exits 0', () => {
    const c = capture();
    const timing: SynthTiming = {
      env: 'dev',
      outdir: '/tmp/x/dev',
      seconds: 1.5,
      messages: [
        {
          level: 'warning',
          path: '/PipelineGuardrails-dev-Guardrails/Routing',
          message: 'plain HTTP',
          ackId: 'pipeline-guardrails:routing-plain-http',
        },
      ],
    };
    expect(runSynth(['dev'], c.io, '/tmp/x', () => [timing])).toBe(0);
    expect(c.err.join('')).toContain(
      "WARNING [dev] /PipelineGuardrails-dev-Guardrails/Routing: plain HTTP\n  (acknowledge in code: Annotations.of(scope).acknowledgeWarning('pipeline-guardrails:routing-plain-http'))",
    );
    expect(c.out.join('')).toMatch(/synth dev: ok in 1\.5 s .*\(1 warning above\)/);
  });

  it('an error annotation (cdk-nag) fails the run with exit 1', () => {
    const c = capture();
    const timing: SynthTiming = {
      env: 'prod',
      outdir: '/tmp/x/prod',
      seconds: 1,
      messages: [{ level: 'error', path: '/S/R', message: 'AwsSolutions-IAM4: managed policy' }],
    };
    expect(runSynth(['prod'], c.io, '/tmp/x', () => [timing])).toBe(1);
    expect(c.err.join('')).toContain('ERROR [prod] /S/R: AwsSolutions-IAM4');
    expect(c.out.join('')).toMatch(/synth prod: FAILED/);
  });

  it('an invalid configuration names the environment and exits 1', () => {
    const c = capture();
    const synth = () => {
      throw new ConfigError('staging', ['region: got "", expected a region']);
    };
    expect(runSynth(['staging'], c.io, '/tmp/x', synth)).toBe(1);
    expect(c.err.join('')).toMatch(/synth staging: Invalid configuration for environment "staging"/);
  });
});

describe('what npm run synth reads', () => {
  it('the annotations of the synthesized assembly, acknowledgement ids split off', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    new CfnResource(stack, 'R', { type: 'AWS::CloudFormation::WaitConditionHandle' });
    Annotations.of(stack).addWarningV2('pipeline-guardrails:test', 'careful');
    Annotations.of(stack).addInfo('fyi');
    const messages = messagesOf(app.synth());
    expect(messages).toEqual(
      expect.arrayContaining([
        { level: 'warning', path: '/S', message: 'careful', ackId: 'pipeline-guardrails:test' },
        { level: 'info', path: '/S', message: 'fyi' },
      ]),
    );
  });

  it("cdk.json's feature flags (as the CDK CLI passes them), so its templates are the deployed ones", () => {
    const ctx = cdkCliContext();
    expect(ctx['@aws-cdk/aws-iam:minimizePolicies']).toBe(true);
    expect(ctx['@aws-cdk/core:defaultCrossStackReferences']).toBe('strong');
  });
});
