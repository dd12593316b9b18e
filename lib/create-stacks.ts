import { Aspects, Tags, Validations, type App } from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NIST80053R5Checks,
  PCIDSS321Checks,
  ServerlessChecks,
  type NagPack,
} from 'cdk-nag';
import type { EnvironmentConfig } from './config';
import { allowLogGroupEncryption, EncryptLogGroups } from './constructs/log-encryption';
import { AcknowledgeCdkDefaults } from './nag/aspect';
import { PROJECT } from './project';
import { GuardrailsStack } from './stacks/guardrails-stack';
import { StatefulStack } from './stacks/stateful-stack';

export interface EnvironmentStacks {
  readonly stateful: StatefulStack;
  readonly guardrails: GuardrailsStack;
}

/** Stack id of one of an environment's stacks, e.g. `PipelineGuardrails-prod-Stateful`. */
export function stackId(envName: string, part: 'Stateful' | 'Guardrails'): string {
  return `PipelineGuardrails-${envName}-${part}`;
}

/**
 * Builds every stack of one environment. `bin/app.ts` and the tests both call this, so the wiring is
 * written once. cdk-nag's five packs (see nagPacks) run on all of them: synth fails on any finding that
 * is neither fixed nor acknowledged with a reason.
 */
export function createStacks(app: App, config: EnvironmentConfig): EnvironmentStacks {
  const env = { account: config.account, region: config.region };
  const terminationProtection = config.envName === 'prod';

  const stateful = new StatefulStack(app, stackId(config.envName, 'Stateful'), {
    env,
    terminationProtection,
    config,
    description: `${PROJECT} (${config.envName}): network, database, keys and state that survive redeploys`,
  });
  const guardrails = new GuardrailsStack(app, stackId(config.envName, 'Guardrails'), {
    env,
    terminationProtection,
    config,
    stateful,
    description: `${PROJECT} (${config.envName}): checks, snapshots, alarms, dashboards and routing`,
  });
  guardrails.addStackDependency(stateful);
  // Every log group of the environment is encrypted with its data key (issue 16).
  allowLogGroupEncryption(stateful.keys.data);
  for (const stack of [stateful, guardrails]) Aspects.of(stack).add(new EncryptLogGroups(stateful.keys.data));

  for (const stack of [stateful, guardrails]) {
    Tags.of(stack).add('Environment', config.envName);
    Tags.of(stack).add('Project', PROJECT);
    for (const [key, value] of Object.entries(config.tags)) Tags.of(stack).add(key, value);
  }
  for (const stack of [stateful, guardrails]) Aspects.of(stack).add(new AcknowledgeCdkDefaults());
  Validations.of(app).addPlugins(...nagPacks(app));
  return { stateful, guardrails };
}

/**
 * The five cdk-nag packs every environment is checked against (issue 16). Each finding is fixed or
 * acknowledged on its resource with a reason (lib/nag/acknowledge.ts); synth fails on any other.
 */
export function nagPacks(app: App): NagPack[] {
  return [
    new AwsSolutionsChecks(app),
    new NIST80053R5Checks(app),
    new HIPAASecurityChecks(app),
    new PCIDSS321Checks(app),
    new ServerlessChecks(app),
  ];
}
