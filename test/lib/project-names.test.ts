import { DEPLOYMENT_KEYS, parameterPath, STATE_KEYS } from '../../lib/project';
import { LOCK_KEY, AUDIT_PK } from '../../lambda/shared/shift-audit';
import { PLAN_KEY } from '../../lambda/shared/rollout-control';
import { ROLLOUT_STATE_KEYS } from '../../lib/constructs/progressive-rollout';
import { synthEnvironment } from '../support/app';

/** Every deployment name a construct publishes is the name a reader reads (one registry: lib/project.ts). */
describe('the names registry', () => {
  const prod = synthEnvironment('prod');
  const published = new Set(
    [prod.stateful, prod.guardrails].flatMap((t) =>
      Object.values(t.findResources('AWS::SSM::Parameter')).map(
        (r) => (r as { Properties: { Name: string } }).Properties.Name,
      ),
    ),
  );

  it.each(Object.entries(DEPLOYMENT_KEYS))('%s (%s) is published where the CLIs read it', (_name, key) => {
    expect(published).toContain(parameterPath('prod', ...key.split('/')));
  });

  it("the state keys the writers use are the registry's, and IAM allows exactly those", () => {
    expect(LOCK_KEY).toEqual(STATE_KEYS.lease);
    expect(PLAN_KEY).toEqual(STATE_KEYS.plan);
    expect(AUDIT_PK).toBe(STATE_KEYS.auditPk);
    expect([...ROLLOUT_STATE_KEYS].sort()).toEqual(
      [STATE_KEYS.auditPk, STATE_KEYS.lease.pk, STATE_KEYS.plan.pk, STATE_KEYS.weightsIntent.pk].sort(),
    );
  });
});
