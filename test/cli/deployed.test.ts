import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { loadDeployment, NotDeployedError } from '../../cli/deployed';

const ssm = mockClient(SSMClient);
beforeEach(() => ssm.reset());

describe('loadDeployment', () => {
  it('reads every page of the environment parameters, keyed by their relative path', async () => {
    ssm
      .on(GetParametersByPathCommand, { Path: '/pipeline-guardrails/prod/', NextToken: undefined })
      .resolves({
        Parameters: [{ Name: '/pipeline-guardrails/prod/state/table-name', Value: 'tbl' }],
        NextToken: 'p2',
      })
      .on(GetParametersByPathCommand, { NextToken: 'p2' })
      .resolves({
        Parameters: [{ Name: '/pipeline-guardrails/prod/alerting/critical-topic-arn', Value: 'arn:t' }],
      });
    const d = await loadDeployment(ssm as never, 'prod');
    expect(d.get('state/table-name')).toBe('tbl');
    expect(d.get('alerting/critical-topic-arn')).toBe('arn:t');
  });

  it('names the missing parameter and how to deploy it', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    const d = await loadDeployment(ssm as never, 'staging');
    expect(() => d.get('routing/listener-arn')).toThrow(NotDeployedError);
    expect(() => d.get('routing/listener-arn')).toThrow(
      /\/pipeline-guardrails\/staging\/routing\/listener-arn not found.*cdk deploy -c env=staging --all/,
    );
  });
});
