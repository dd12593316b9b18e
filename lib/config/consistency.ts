import { RegionInfo } from 'aws-cdk-lib/region-info';
import { regionName } from './rules';

/** What the cross-field rules below read (a validated environment config). */
export interface ConsistencyInput {
  readonly envName: string;
  readonly account: string;
  readonly region: string;
  readonly network: {
    readonly mode: string;
    readonly availabilityZones: readonly string[];
    readonly privateSubnetIds?: readonly string[];
    readonly publicSubnetIds?: readonly string[];
  };
  readonly database: {
    readonly mode: string;
    readonly endpoint?: string;
    readonly credentialsSecretArn?: string;
  };
  readonly checks: { readonly credentialsSecretArn?: string };
  readonly routing: {
    readonly enabled: boolean;
    readonly loadBalancer: {
      readonly internetFacing: boolean;
      readonly allowPlainHttp: boolean;
      readonly certificateArn?: string;
      readonly waf?: 'managed' | 'none';
      readonly wafWebAclArn?: string;
    };
    readonly blue: { readonly secrets: Readonly<Record<string, string | { readonly secretArn: string }>> };
    readonly green: { readonly secrets: Readonly<Record<string, string | { readonly secretArn: string }>> };
  };
}

export type IssueFn = (path: (string | number)[], message: string, input: unknown) => void;

/** Regions aws-cdk-lib knows (its region fact tables). */
export const KNOWN_REGIONS: readonly string[] = RegionInfo.regions.map((r) => r.name);

/** `...<id>.<region>.rds.amazonaws.com[.cn]`: the region an RDS endpoint names; undefined for a custom DNS name. */
export function rdsEndpointRegion(endpoint: string): string | undefined {
  return /\.([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d)\.rds\.amazonaws\.com(?:\.cn)?$/i.exec(endpoint)?.[1];
}

/** Field 4 of an ARN (its region); undefined when empty or not an ARN. */
function arnRegion(arn: string | undefined): string | undefined {
  const r = arn?.split(':')[3];
  return r ? r : undefined;
}

const secretArnOf = (s: string | { readonly secretArn: string }) => (typeof s === 'string' ? s : s.secretArn);

/** Every place of the config that names a region of its own, with its path. */
function regionalReferences(c: ConsistencyInput): { path: (string | number)[]; region: string }[] {
  const refs: { path: (string | number)[]; region: string | undefined }[] = [
    ...c.network.availabilityZones.map((az, i) => ({
      path: ['network', 'availabilityZones', i],
      region: az.replace(/[a-z]$/, ''),
    })),
    { path: ['database', 'endpoint'], region: c.database.endpoint && rdsEndpointRegion(c.database.endpoint) },
    { path: ['database', 'credentialsSecretArn'], region: arnRegion(c.database.credentialsSecretArn) },
    { path: ['checks', 'credentialsSecretArn'], region: arnRegion(c.checks.credentialsSecretArn) },
    {
      path: ['routing', 'loadBalancer', 'certificateArn'],
      region: c.routing.enabled ? arnRegion(c.routing.loadBalancer.certificateArn) : undefined,
    },
    {
      path: ['routing', 'loadBalancer', 'wafWebAclArn'],
      region: c.routing.enabled ? arnRegion(c.routing.loadBalancer.wafWebAclArn) : undefined,
    },
  ];
  return refs.filter((r): r is { path: (string | number)[]; region: string } => r.region !== undefined);
}

/**
 * Whether `region` can be used to judge the other fields. A malformed region is reported by its own
 * rule; an unknown one, or one that every regional field of the config contradicts with the same other
 * region (a typo of `region`, not of every other field), is reported once, on `region`, and the
 * per-field region rules are skipped so the fields are not blamed for it.
 */
export function regionUsable(c: ConsistencyInput, issue: IssueFn): boolean {
  if (!regionName().safeParse(c.region).success) return false;
  if (!KNOWN_REGIONS.includes(c.region)) {
    issue(
      ['region'],
      `a known AWS region such as us-east-1 (one of ${KNOWN_REGIONS.length} regions aws-cdk-lib knows)`,
      c.region,
    );
    return false;
  }
  const refs = regionalReferences(c);
  const others = new Set(refs.map((r) => r.region));
  const [only] = [...others];
  if (refs.length >= 2 && others.size === 1 && only !== c.region) {
    issue(
      ['region'],
      `${only}, the region every availability zone and regional ARN of this config names (${refs
        .map((r) => r.path.join('.'))
        .join(', ')}); or change all of those`,
      c.region,
    );
    return false;
  }
  return true;
}

/**
 * Cross-field rules of the security review (issue 16), called once `region` and `account` are usable:
 * - the RDS endpoint is in the environment's region;
 * - every secret a service reads is in the environment's account and region, and is not the database's
 *   admin secret (a pipeline gets a database user of its own);
 * - no subnet is both private and public, and none is listed twice.
 */
export function securityConsistencyIssues(c: ConsistencyInput, issue: IssueFn): void {
  const endpointRegion = c.database.endpoint && rdsEndpointRegion(c.database.endpoint);
  if (endpointRegion !== undefined && endpointRegion !== '' && endpointRegion !== c.region) {
    issue(
      ['database', 'endpoint'],
      `an RDS endpoint in this environment's region (${c.region}); the checks, snapshots and alarms all work in ${c.region}`,
      c.database.endpoint,
    );
  }

  const admin = c.database.mode === 'existing' ? c.database.credentialsSecretArn : undefined;
  if (c.routing.enabled) edgeIssues(c, issue);
  if (c.routing.enabled) {
    for (const color of ['blue', 'green'] as const) {
      for (const [name, secret] of Object.entries(c.routing[color].secrets)) {
        const arn = secretArnOf(secret);
        const [, , , secretRegion, secretAccount] = arn.split(':');
        const path = ['routing', color, 'secrets', name];
        if (secretRegion !== c.region || secretAccount !== c.account) {
          issue(path, `a secret in this environment's account and region (${c.account}, ${c.region})`, arn);
        } else if (admin !== undefined && sameSecret(arn, admin)) {
          issue(
            path,
            `a secret of the ${color} service's own database user, not the admin secret (database.credentialsSecretArn): a pipeline must not hold the credentials that can drop the tables it writes`,
            arn,
          );
        }
      }
    }
  }

  if (c.network.mode === 'existing') {
    const priv = c.network.privateSubnetIds ?? [];
    const pub = c.network.publicSubnetIds ?? [];
    pub.forEach((id, i) => {
      if (priv.includes(id)) {
        issue(
          ['network', 'publicSubnetIds', i],
          'a subnet not also listed in privateSubnetIds (a subnet is either public, with a route to an internet gateway, or private)',
          id,
        );
      }
    });
    for (const [field, ids] of [
      ['privateSubnetIds', priv],
      ['publicSubnetIds', pub],
    ] as const) {
      ids.forEach((id, i) => {
        if (ids.indexOf(id) !== i) issue(['network', field, i], 'subnet ids listed once each', id);
      });
    }
  }
}

/** Same secret, whether either ARN is complete (with the 6-character suffix) or partial. */
export function sameSecret(a: string, b: string): boolean {
  if (a === b) return true;
  const suffixed = (full: string, partial: string) =>
    full.startsWith(`${partial}-`) && full.length === partial.length + 7;
  return suffixed(a, b) || suffixed(b, a);
}

/** The load balancer's edge: no plain HTTP on the internet, a web ACL in front of prod's public one. */
function edgeIssues(c: ConsistencyInput, issue: IssueFn): void {
  const lb = c.routing.loadBalancer;
  const at = (field: string) => ['routing', 'loadBalancer', field];
  if (lb.internetFacing && lb.allowPlainHttp) {
    issue(
      at('allowPlainHttp'),
      'false for an internet-facing load balancer (give certificateArn for HTTPS, or make it internal with internetFacing: false and ingressCidrs)',
      lb.allowPlainHttp,
    );
  }
  const aclRegion = arnRegion(lb.wafWebAclArn);
  const aclAccount = lb.wafWebAclArn?.split(':')[4];
  if (lb.wafWebAclArn !== undefined && (aclRegion !== c.region || aclAccount !== c.account)) {
    issue(
      at('wafWebAclArn'),
      `a regional web ACL in this environment's account and region (${c.account}, ${c.region})`,
      lb.wafWebAclArn,
    );
  }
  if (c.envName === 'prod' && lb.internetFacing && lb.waf === 'none') {
    issue(at('waf'), 'managed, or a wafWebAclArn, for the internet-facing load balancer of prod', lb.waf);
  }
}
