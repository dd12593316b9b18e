import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { parameterPath } from '../lib/project';

/**
 * What an environment deployed, as published in SSM parameters under `/pipeline-guardrails/<env>/`
 * (state table name, topic ARNs, listener and target groups, ...). The CLIs read these instead of asking
 * the operator to type ARNs.
 */
export class Deployment {
  constructor(
    readonly envName: string,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  /** Value of `<area>/<name>`, e.g. `state/table-name`; throws naming the parameter when it is missing. */
  get(key: string): string {
    const v = this.values.get(key);
    if (v === undefined) {
      throw new NotDeployedError(
        `parameter ${parameterPath(this.envName, key)} not found: is ${this.envName} deployed (npx cdk deploy -c env=${this.envName} --all) and are your credentials for its account?`,
      );
    }
    return v;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }
}

export class NotDeployedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotDeployedError';
  }
}

export async function loadDeployment(ssm: SSMClient, envName: string): Promise<Deployment> {
  const root = `${parameterPath(envName)}/`;
  const values = new Map<string, string>();
  let NextToken: string | undefined;
  do {
    const out = await ssm.send(new GetParametersByPathCommand({ Path: root, Recursive: true, NextToken }));
    for (const p of out.Parameters ?? []) {
      if (p.Name && p.Value !== undefined) values.set(p.Name.slice(root.length), p.Value);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return new Deployment(envName, values);
}
