import * as fs from 'node:fs';
import * as path from 'node:path';

import { SDK_WARNING_OPT_OUT, silenceSdkNodeWarning } from '../../cli/node-support';

/** semver, the library npm reads these ranges with (a dependency of jest's, without its own types here). */
interface Semver {
  validRange(range: string): string | null;
  subset(sub: string, dom: string): boolean;
  intersects(a: string, b: string): boolean;
  satisfies(version: string, range: string): boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const semver = require('semver') as Semver;

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
};

/** Dependencies that want a newer Node than `engines` on purpose, and why that is safe. */
const NEWER_NODE_ON_PURPOSE: Record<string, string> = {
  // Test-only: its one Node 22 API (Promise.withResolvers) is polyfilled by test/setup/polyfills.ts.
  'node_modules/aws-local-stepfunctions': '>=22.0.0',
};

describe('the Node.js decision', () => {
  it('engines is a range every locked dependency supports (but the ones listed, on purpose)', () => {
    const unsupported = Object.entries(lock.packages)
      .filter(([name]) => name !== '' && !(name in NEWER_NODE_ON_PURPOSE))
      .map(([name, p]) => [name, Array.isArray(p.engines) ? undefined : p.engines?.node] as const)
      .filter((e): e is readonly [string, string] => typeof e[1] === 'string')
      .filter(([, range]) => semver.validRange(range) !== null && !semver.subset(pkg.engines.node, range));
    expect(unsupported).toEqual([]);
    for (const [name, range] of Object.entries(NEWER_NODE_ON_PURPOSE)) {
      expect(
        Array.isArray(lock.packages[name]?.engines) ? undefined : lock.packages[name]?.engines?.node,
      ).toBe(range);
    }
  });

  it('.nvmrc names a Node the engines range accepts, and these machines run one too', () => {
    const nvmrc = fs.readFileSync(path.join(root, '.nvmrc'), 'utf8').trim();
    expect(semver.intersects(`${nvmrc}.x`, pkg.engines.node)).toBe(true);
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });

  it('the pinned AWS SDK still runs on the oldest Node of engines (else: raise engines, drop the opt-out)', () => {
    const sdk = lock.packages['node_modules/@aws-sdk/core']?.engines;
    const sdkRange = Array.isArray(sdk) ? undefined : sdk?.node;
    expect(sdkRange).toBeDefined();
    expect(semver.subset(pkg.engines.node, sdkRange as string)).toBe(true);
  });

  it("switches the SDK's future-support warning off on Node 20 only, and never overrides a choice", () => {
    const on20: NodeJS.ProcessEnv = {};
    silenceSdkNodeWarning(on20, 'v20.20.2');
    expect(on20[SDK_WARNING_OPT_OUT]).toBe('true');
    const on22: NodeJS.ProcessEnv = {};
    silenceSdkNodeWarning(on22, 'v22.12.0');
    expect(on22[SDK_WARNING_OPT_OUT]).toBeUndefined();
    const chosen: NodeJS.ProcessEnv = { [SDK_WARNING_OPT_OUT]: 'false' };
    silenceSdkNodeWarning(chosen, 'v20.20.2');
    expect(chosen[SDK_WARNING_OPT_OUT]).toBe('false');
  });
});
