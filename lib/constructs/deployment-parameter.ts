import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { parameterPath } from '../project';

/**
 * Publishes one thing the environment deployed at `/pipeline-guardrails/<env>/<key>` so the command-line
 * tools find it (cli/deployed.ts) instead of asking for hand-typed ARNs.
 */
export function publishDeploymentParameter(
  scope: Construct,
  id: string,
  envName: string,
  key: string,
  value: string,
  description: string,
): ssm.StringParameter {
  return new ssm.StringParameter(scope, id, {
    parameterName: parameterPath(envName, ...key.split('/')),
    stringValue: value,
    description,
  });
}
