import {
  conflictingEnvContext,
  envAssignments,
  procTree,
  type ProcessTree,
} from '../../../lib/config/env-context';

/** A process tree from a table: pid -> [parent, argv]. */
function tree(table: Record<number, [number, string[]]>): ProcessTree {
  return { commandLine: (pid) => table[pid]?.[1], parent: (pid) => table[pid]?.[0] };
}

describe('-c env=... given twice', () => {
  it('reads every spelling of an env context assignment', () => {
    expect(
      envAssignments([
        'cdk',
        'deploy',
        '-c',
        'env=prod',
        '--context',
        'env=dev',
        '-c=env=staging',
        '--context=env=qa',
        '-c',
        'other=1',
      ]),
    ).toEqual(['prod', 'dev', 'staging', 'qa']);
  });

  it('finds two different environments on the CDK CLI command line above the app', () => {
    const t = tree({
      40: [30, ['node', 'tsx', 'bin/app.ts']],
      30: [20, ['sh', '-c', 'npx tsx bin/app.ts']],
      20: [10, ['node', '/x/aws-cdk/bin/cdk', 'deploy', '-c', 'env=prod', '-c', 'env=dev']],
      10: [1, ['bash']],
    });
    expect(conflictingEnvContext(40, t)).toEqual(['prod', 'dev']);
  });

  it('accepts one environment, the same one twice, or a tree it cannot read', () => {
    const one = tree({ 20: [1, ['cdk', 'synth', '-c', 'env=prod']] });
    const twice = tree({ 20: [1, ['cdk', 'synth', '-c', 'env=prod', '-c', 'env=prod']] });
    expect(conflictingEnvContext(20, one)).toBeUndefined();
    expect(conflictingEnvContext(20, twice)).toBeUndefined();
    expect(conflictingEnvContext(20, tree({}))).toBeUndefined();
  });

  it('reads this process and its parent on Linux', () => {
    expect(procTree.commandLine(process.pid)?.[0]).toMatch(/node/);
    expect(procTree.parent(process.pid)).toBe(process.ppid);
  });
});
