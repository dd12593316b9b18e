import { runShiftCommand } from '../../cli/commands/shift';
import { FakeEnvironment, fakeIo } from './shift-fake-env';

/**
 * The README's cutover transcript: the real `shift` command run against the fake prod environment of
 * shift-fake-env.ts (aws-sdk-client-mock; no AWS account is reachable here) on a fake clock, so bakes take
 * no time. `npx tsx test/cli/shift-transcript.ts` prints it; test/cli/shift-readme.test.ts checks that the
 * README shows exactly this output.
 */
export async function cutoverTranscript(): Promise<string> {
  const env = new FakeEnvironment('prod');
  const lines: string[] = [];
  const run = async (argv: string[], minutesLater: number) => {
    env.now += minutesLater * 60_000;
    // The scheduled data checker ran 40 seconds ago.
    env.checks = {
      status: 'ok',
      checkedAt: new Date(env.now - 40_000).toISOString(),
      problems: [],
      durationMs: 3900,
    };
    const io = fakeIo();
    const code = await runShiftCommand(argv, io.io, () => env.deps());
    lines.push(`$ npm run shift -- ${shellWords(argv)}`);
    const text = (io.out() + io.err()).trimEnd();
    if (text) lines.push(text);
    lines.push(`# exit ${code}`, '');
  };

  await run(['--env', 'prod', '--status'], 0);
  await run(['--env', 'prod', '--green', '10', '--bake', '5m', '--yes', '--reason', 'cutover step 1'], 1);
  await run(['--env', 'prod', '--green', '25', '--bake', '5m', '--yes'], 30);
  // A page during the cutover: the preflight names it and refuses.
  env.setAlarm('database-cpu-critical', 'ALARM', 'Threshold Crossed: 3 datapoints [91.2, 93.5, 92.8] > 90');
  await run(['--env', 'prod', '--green', '50', '--bake', '5m', '--yes'], 45);
  env.setAlarm('database-cpu-critical', 'OK');
  await run(['--env', 'prod', '--green', '50', '--bake', '5m', '--yes'], 20);
  await run(['--env', 'prod', '--green', '100', '--bake', '5m', '--yes'], 60);
  await run(['--env', 'prod', '--rollback', '--reason', 'unified pipeline drops late box scores'], 90);
  await run(['--env', 'prod', '--status'], 1);
  return lines.join('\n').trimEnd();
}

/** A bake that catches a failing green: the automatic rollback. */
export async function autoRollbackTranscript(): Promise<string> {
  const env = new FakeEnvironment('prod');
  env.now += 3 * 3_600_000;
  env.checks = {
    status: 'ok',
    checkedAt: new Date(env.now - 40_000).toISOString(),
    problems: [],
    durationMs: 3900,
  };
  env.onAlarmPoll = (poll) => {
    if (poll === 9) {
      env.setAlarm(
        'routing-green-error-rate',
        'ALARM',
        'Threshold Crossed: 2 out of the last 3 datapoints [4.8, 6.1] were greater than the threshold (1.0)',
      );
    }
  };
  const argv = ['--env', 'prod', '--green', '10', '--bake', '5m', '--yes'];
  const io = fakeIo();
  const code = await runShiftCommand(argv, io.io, () => env.deps());
  return [`$ npm run shift -- ${shellWords(argv)}`, (io.out() + io.err()).trimEnd(), `# exit ${code}`].join(
    '\n',
  );
}

function shellWords(argv: string[]): string {
  return argv.map((a) => (/^[\w./:,=%-]+$/.test(a) ? a : `"${a}"`)).join(' ');
}

if (require.main === module) {
  (async () => {
    process.stdout.write(`${await cutoverTranscript()}\n\n----\n\n${await autoRollbackTranscript()}\n`);
  })().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
