import type { Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENT_NAMES } from '../../../lib/project';
import { SNAPSHOT_TAG_KEYS } from '../../../lib/constructs/snapshot-iam';
import { synthEnvironment } from '../../support/app';

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Found = Statement & { readonly where: string };

/** Every statement of every identity policy (inline, managed, role inline) in a template. */
function allStatements(t: Template): Found[] {
  const out: Found[] = [];
  type Doc = { Statement?: Statement[] };
  type Props = { PolicyDocument?: Doc; Policies?: { PolicyDocument: Doc }[] };
  const resources = t.toJSON().Resources as Record<string, { Type: string; Properties?: Props }>;
  for (const [id, r] of Object.entries(resources)) {
    const docs: (Doc | undefined)[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      docs.push(r.Properties?.PolicyDocument);
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of r.Properties?.Policies ?? []) docs.push(p.PolicyDocument);
    }
    for (const doc of docs) {
      for (const s of doc?.Statement ?? []) out.push({ ...s, where: `${id}/${s.Sid ?? '?'}` });
    }
  }
  return out;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
/** An ARN as one string: tokens become `<...>`, joins are flattened. */
function arnText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'Fn::Join' in v) {
    const [sep, parts] = (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map(arnText).join(sep);
  }
  return '<token>';
}
/** Does the statement's action list cover `action` (exact, `rds:*`, or a wildcard pattern)? */
function covers(s: Statement, action: string): boolean {
  return list(s.Action).some((a) => {
    const re = new RegExp(
      `^${String(a)
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')}$`,
      'i',
    );
    return re.test(action);
  });
}

describe.each(ENVIRONMENT_NAMES)('snapshot guard in IAM (%s)', (envName) => {
  const result = synthEnvironment(envName);
  const statements = [...allStatements(result.stateful), ...allStatements(result.guardrails)];
  const allows = statements.filter((s) => s.Effect === 'Allow');
  const prefix = `:snapshot:pipeline-guardrails-${envName}-`;

  // The restore drill tags the instance it creates (tag-on-create, reason=drill); never another instance.
  const drillInstances = `:db:pipeline-guardrails-${envName}-drill-*`;
  const drillTagOnCreate = (s: (typeof allows)[number], r: unknown) =>
    arnText(r).endsWith(drillInstances) &&
    JSON.stringify(s.Condition ?? {}).includes('"aws:RequestTag/reason":"drill"');

  it('lets no role tag a DB instance but a new drill copy, or anything but snapshots with the tool prefix', () => {
    const tagging = allows.filter(
      (s) => covers(s, 'rds:AddTagsToResource') || covers(s, 'rds:RemoveTagsFromResource'),
    );
    expect(tagging.length).toBeGreaterThan(0);
    for (const s of tagging) {
      expect({ where: s.where, actions: list(s.Action) }).toEqual({
        where: s.where,
        actions: ['rds:AddTagsToResource'],
      });
      for (const r of list(s.Resource).filter((r) => !drillTagOnCreate(s, r))) {
        expect({ where: s.where, resource: arnText(r) }).toEqual({
          where: s.where,
          resource: expect.stringContaining(prefix),
        });
      }
    }
  });

  it('lets every tagging or snapshot-creating statement write only the tool tags with this environment', () => {
    const creating = allows.filter(
      (s) =>
        covers(s, 'rds:AddTagsToResource') ||
        (['rds:CreateDBSnapshot', 'rds:CopyDBSnapshot'].some((a) => covers(s, a)) &&
          list(s.Resource).some((r) => arnText(r).includes(prefix)) &&
          // the source side of a copy is guarded by the snapshot's own tags, not the request's
          !s.Condition?.StringEquals?.['rds:snapshot-tag/managed-by']),
    );
    expect(creating.length).toBeGreaterThan(0);
    for (const s of creating) {
      expect({ where: s.where, condition: s.Condition }).toEqual({
        where: s.where,
        condition: expect.objectContaining({
          StringEquals: expect.objectContaining({
            'aws:RequestTag/managed-by': 'pipeline-guardrails',
            'aws:RequestTag/environment': envName,
          }),
          'ForAllValues:StringEquals': { 'aws:TagKeys': expect.any(Array) },
        }),
      });
      const keys = s.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys'] as string[];
      expect(SNAPSHOT_TAG_KEYS).toEqual(expect.arrayContaining(keys));
    }
  });

  it('deletes only prefixed snapshots that carry the tool tags of this environment', () => {
    const deletes = allows.filter((s) => covers(s, 'rds:DeleteDBSnapshot'));
    expect(deletes.length).toBeGreaterThan(0);
    for (const s of deletes) {
      expect(list(s.Action)).toEqual(['rds:DeleteDBSnapshot']);
      for (const r of list(s.Resource)) expect(arnText(r)).toContain(prefix);
      expect(s.Condition).toEqual({
        StringEquals: {
          'rds:snapshot-tag/managed-by': 'pipeline-guardrails',
          'rds:snapshot-tag/environment': envName,
        },
      });
    }
  });

  it('gives the operators and the rollout only the pre-shift snapshot, tagged pre-shift', () => {
    const preShift = allows.filter((s) => s.Sid?.startsWith('PreShiftSnapshot'));
    expect(preShift.length).toBeGreaterThanOrEqual(3);
    for (const s of preShift.filter((x) => covers(x, 'rds:AddTagsToResource'))) {
      expect(s.Condition?.StringEquals?.['aws:RequestTag/reason']).toEqual(['pre-shift']);
      for (const r of list(s.Resource)) expect(arnText(r)).toContain(`${prefix}pre-shift-`);
    }
  });
});
