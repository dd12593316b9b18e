import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NIST80053R5Checks,
  PCIDSS321Checks,
  ServerlessChecks,
  type NagPack,
} from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { loadConfig } from '../../lib/config';
import { createStacks } from '../../lib/create-stacks';
import { accept } from '../../lib/nag/acknowledge';
import { ENVIRONMENT_NAMES } from '../../lib/project';
import { synthEnvironment } from '../support/app';

const PACKS: readonly (() => NagPack)[] = [
  () => new AwsSolutionsChecks(),
  () => new NIST80053R5Checks(),
  () => new HIPAASecurityChecks(),
  () => new PCIDSS321Checks(),
  () => new ServerlessChecks(),
];

/** `rule at path` for every unacknowledged finding of one pack (empty = clean). */
function findings(pack: NagPack, app: App): string[] {
  return pack
    .validateScope(app)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath}`),
    );
}

/** Every acknowledgement in the tree: where, which rule, why. */
function acknowledgements(
  root: IConstruct,
): { path: string; node: IConstruct; id: string; reason: string }[] {
  const nagRule = /^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321|Serverless)-/;
  return root.node.findAll().flatMap((node) =>
    node.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: node.node.path,
          node,
          // aws-cdk-lib writes the rule id with an `Annotation::` prefix.
          id: id.replace(/^annotation::/i, ''),
          reason: String(reason),
        })),
      )
      .filter((a) => nagRule.test(a.id)),
  );
}

describe.each(ENVIRONMENT_NAMES)('cdk-nag packs on %s', (envName) => {
  const { app } = synthEnvironment(envName);

  it.each(PACKS.map((make) => [make().readPackName, make] as const))(
    'has no unacknowledged %s finding',
    (_name, make) => {
      expect(findings(make(), app)).toEqual([]);
    },
  );

  it('acknowledges only on resources or their constructs, never on a stack or the app, each with a reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(20);
    for (const a of acks) {
      expect({ path: a.path, onStack: a.node instanceof Stack || a.node === app }).toEqual({
        path: a.path,
        onStack: false,
      });
      expect(a.reason.length).toBeGreaterThanOrEqual(20);
    }
  });
});

describe('cdk-nag packs in synth', () => {
  const appWithRawFunction = () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const { guardrails } = createStacks(app, loadConfig('staging'));
    const fn = new lambda.Function(guardrails, 'RawFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
      tracing: lambda.Tracing.ACTIVE,
      memorySize: 256,
      timeout: Duration.seconds(3),
    });
    return { app, fn };
  };

  it('fails synth on a finding only the extra packs see (a function outside the project wrapper)', () => {
    const { app } = appWithRawFunction();
    expect(() => app.synth()).toThrow(/NIST\.800\.53\.R5-LambdaInsideVPC|HIPAA\.Security-LambdaDLQ/);
  });

  it('passes once each of its findings is acknowledged on it with a reason', () => {
    const { app, fn } = appWithRawFunction();
    const why = 'test function: calls no AWS API, invoked by nothing, removed with the test app';
    accept.functionOutsideVpc(fn, why);
    accept.unreservedConcurrency(fn, why);
    accept.failuresWatchedElsewhere(fn, why);
    Validations.of(fn).acknowledge(
      { id: 'AwsSolutions-L1', reason: why },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: why },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: why,
      },
    );
    expect(() => app.synth()).not.toThrow();
  });

  it('refuses an acknowledgement without a real reason', () => {
    const { fn } = appWithRawFunction();
    expect(() => accept.functionOutsideVpc(fn, 'because')).toThrow(/needs a real reason/);
  });
});
