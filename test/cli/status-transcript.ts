import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { COMMANDS } from '../../cli/commands';
import { createStatusCommand } from '../../cli/commands/status';
import { main } from '../../cli/main';
import { snapshotIdentifier, snapshotTags } from '../../lambda/snapshots/naming';
import { FakeEnvironment, fakeIo, mocks } from './shift-fake-env';
import { AUTO_ROLLBACK_PARAMETER, DEFAULT_TRIGGERS } from '../../lambda/shared/auto-rollback-policy';

/**
 * The README's status screen: prod 25% green, green's error-rate alarm firing, a scheduled snapshot 3 hours
 * old, clean data checks a minute old, a manual shift holding the lock, no rollout plan run yet. Real command, fake environment.
 */
export async function statusTranscript(): Promise<string> {
  const env = new FakeEnvironment('prod');
  const createdAt = new Date(env.now - 3 * 3600_000);
  env.snapshots.push({
    DBSnapshotIdentifier: snapshotIdentifier('prod', 'scheduled', createdAt),
    SnapshotType: 'manual',
    Status: 'available',
    SnapshotCreateTime: createdAt,
    TagList: snapshotTags('prod', 'scheduled'),
  });
  env.params.set(
    `${env.root}/rollout/state-machine-arn`,
    'arn:aws:states:us-east-1:333333333333:stateMachine:pipeline-guardrails-prod-rollout',
  );
  mocks.sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  // Last Sunday's restore drill of a scheduled snapshot: restored in 14 minutes, every check passed.
  env.params.set(
    `${env.root}/snapshots/drill-state-machine-arn`,
    'arn:aws:states:us-east-1:333333333333:stateMachine:pipeline-guardrails-prod-restore-drill',
  );
  env.items.set('drill#result|latest', {
    pk: 'drill#result',
    sk: 'latest',
    outcome: 'succeeded',
    finishedAt: new Date(env.now - 2 * 86_400_000).toISOString(),
    snapshotId: snapshotIdentifier('prod', 'scheduled', new Date(env.now - 2 * 86_400_000 - 3 * 3600_000)),
    restoreSeconds: 840,
    checksFailed: 0,
    instanceDeleted: true,
  });
  env.listener = { blue: 75, green: 25 };
  env.intent = { blue: 75, green: 25 };
  // The shift to 25% (under the lease below) raised green at 01:58: the 24 h watch window starts there.
  env.items.set('routing#weights|current', {
    ...env.items.get('routing#weights|current')!,
    at: '2026-11-26T01:58:00.000Z',
    greenRaisedAt: '2026-11-26T01:58:00.000Z',
  });
  env.params.set(
    `${env.root}/${AUTO_ROLLBACK_PARAMETER}`,
    JSON.stringify({ watchHours: 24, triggers: DEFAULT_TRIGGERS }),
  );
  env.setAlarm('routing-green-error-rate', 'ALARM', 'Threshold Crossed: 2 datapoints [3.1, 2.7] > 1.0');
  env.lock = {
    owner: 'arn:aws:sts::333333333333:assumed-role/DataPlatformOperator/alice',
    purpose: 'shift to 25% green',
    acquiredAt: '2026-11-26T01:57:00.000Z',
    expiresAt: env.now / 1000 + 900,
  };
  const io = fakeIo();
  const commands = {
    ...COMMANDS,
    status: { summary: '', load: async () => createStatusCommand(() => env.deps()) },
  };
  const code = await main(['status', '--env', 'prod'], io.io, commands);
  return `$ npm run status -- --env prod\n${io.out()}# exit ${code}`;
}
