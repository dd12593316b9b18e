import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  describeActivePlan,
  markPlanAborting,
  PLAN_KEY,
  PlanStateConflictError,
  putNewPlanState,
  requestPromote,
  stopRunningPlans,
  updatePlanState,
} from '../../../lambda/shared/rollout-control';
import { planState, STATE_MACHINE_ARN, TABLE } from './fixtures';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const client = new SFNClient({});
const conditionalFailure = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  ddb.reset();
  sfn.reset();
});

describe('plan item', () => {
  it('writes a new plan only when no other plan is running or aborting', async () => {
    ddb.on(PutCommand).resolves({});
    await putNewPlanState(doc, TABLE, planState());
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ ...PLAN_KEY, planId: 'plan-1' }),
      ConditionExpression:
        'attribute_not_exists(pk) OR NOT (#status IN (:running, :aborting)) OR planId = :id',
    });
    ddb.on(PutCommand).rejects(conditionalFailure());
    await expect(putNewPlanState(doc, TABLE, planState())).rejects.toThrow(PlanStateConflictError);
  });

  it('updates only the named plan, and only in the required status', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...PLAN_KEY, ...planState({ phase: 'gates' }) } });
    const out = await updatePlanState(
      doc,
      TABLE,
      'plan-1',
      { phase: 'gates', stepIndex: 2 },
      { requireStatus: 'running' },
    );
    expect(out).not.toHaveProperty('pk');
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: '#planId = :planId AND #status = :required',
      ExpressionAttributeValues: expect.objectContaining({
        ':planId': 'plan-1',
        ':required': 'running',
        ':v1': 2,
      }),
    });
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    await expect(
      updatePlanState(doc, TABLE, 'plan-1', { phase: 'gates' }, { requireStatus: 'running' }),
    ).rejects.toThrow('plan plan-1 is no longer running');
  });

  it('marks a running plan aborting, and reports no plan when none runs', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...PLAN_KEY, ...planState({ status: 'aborting' }) } });
    await expect(markPlanAborting(doc, TABLE, 'why')).resolves.toMatchObject({
      planId: 'plan-1',
      status: 'aborting',
    });
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    await expect(markPlanAborting(doc, TABLE, 'why')).resolves.toBeUndefined();
  });

  it('promotes only the step that is baking or paused, recording --full, the waiver and who', async () => {
    const req = { planId: 'plan-1', stepIndex: 2, full: true, waivesEvidence: true, actor: 'alice' };
    ddb.on(UpdateCommand).resolves({});
    await requestPromote(doc, TABLE, req);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: 'planId = :planId AND #status = :running AND stepIndex = :step',
      ExpressionAttributeValues: expect.objectContaining({
        ':step': 2,
        ':full': true,
        ':waive': true,
        ':actor': 'alice',
      }),
    });
    ddb.on(UpdateCommand).rejects(conditionalFailure());
    await expect(requestPromote(doc, TABLE, req)).rejects.toThrow('no longer running step 3');
  });
});

describe('executions', () => {
  it('stops every running execution across pages', async () => {
    sfn
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [{ executionArn: 'e1' } as never], nextToken: 't' })
      .resolves({ executions: [{ executionArn: 'e2' } as never] });
    sfn.on(StopExecutionCommand).resolves({});
    await expect(stopRunningPlans(client, STATE_MACHINE_ARN, 'cause')).resolves.toEqual(['e1', 'e2']);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { statusFilter: 'RUNNING', nextToken: 't' });
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: 'e2',
      error: 'PlanAborted',
      cause: 'cause',
    });
  });

  it('describes the active plan: the running execution and the plan item', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: 'e1', name: 'plan-1' } as never] });
    ddb.on(GetCommand).resolves({ Item: { ...PLAN_KEY, ...planState() } });
    const active = await describeActivePlan(client, doc, TABLE, STATE_MACHINE_ARN);
    expect(active.execution?.name).toBe('plan-1');
    expect(active.state).toMatchObject({ planId: 'plan-1' });
    expect(active.state).not.toHaveProperty('pk');
  });
});
