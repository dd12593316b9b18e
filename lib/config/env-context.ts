import * as fs from 'node:fs';

/**
 * `-c env=prod -c env=dev`: the CDK CLI keeps the last value of a repeated context key and hands the app
 * only that (aws-cdk `parseStringContextListToObject`), so the app cannot see the contradiction in its
 * context. Where the process tree is readable (Linux /proc), bin/app.ts reads the command line of the CDK
 * CLI that started it and refuses two different environments. Elsewhere this check does nothing.
 */

/** The values of every `env` context assignment on a command line (`-c env=X`, `--context env=X`, `-c=env=X`). */
export function envAssignments(argv: readonly string[]): string[] {
  const values: string[] = [];
  for (const [i, a] of argv.entries()) {
    let assignment: string | undefined;
    if (a === '-c' || a === '--context') assignment = argv[i + 1];
    else if (a.startsWith('-c=')) assignment = a.slice(3);
    else if (a.startsWith('--context=')) assignment = a.slice('--context='.length);
    const m = assignment === undefined ? null : /^env=(.*)$/.exec(assignment);
    if (m) values.push(m[1] ?? '');
  }
  return values;
}

export interface ProcessTree {
  /** The argv of process `pid`, or undefined when it cannot be read. */
  commandLine(pid: number): string[] | undefined;
  parent(pid: number): number | undefined;
}

/** Linux's /proc; every read that fails answers undefined. */
export const procTree: ProcessTree = {
  commandLine(pid) {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return undefined;
    }
  },
  parent(pid) {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
    } catch {
      return undefined;
    }
  },
};

/**
 * The distinct environments the nearest ancestor that names any passed (in order), when it passed more than
 * one; undefined when it named one, none was found, or the tree cannot be read.
 */
export function conflictingEnvContext(
  start: number,
  tree: ProcessTree = procTree,
  depth = 8,
): string[] | undefined {
  let pid: number | undefined = start;
  for (let i = 0; i < depth && pid !== undefined && pid > 1; i++) {
    const values = envAssignments(tree.commandLine(pid) ?? []);
    if (values.length > 0) {
      const distinct = [...new Set(values)];
      return distinct.length > 1 ? distinct : undefined;
    }
    pid = tree.parent(pid);
  }
  return undefined;
}
