import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Accepted cdk-nag findings, one helper per KIND of finding, each applied to one resource (or the
 * construct that owns it) with the reason that kind is accepted there. Every rule id a kind covers is
 * listed once here, for all five packs the app runs (AwsSolutions, NIST 800-53 rev 5, HIPAA Security,
 * PCI DSS 3.2.1, Serverless), so a new resource of a known kind needs one call, not five ids.
 *
 * A new finding: fix it if the rule is right. If it is not (or not here), find the kind below that fits
 * and call it on the resource with a reason that names that resource's situation; if no kind fits, add
 * one here with its rule ids and a doc comment saying when it applies. Never acknowledge on a stack or
 * the app: the pack test (test/lib/nag-packs.test.ts) must keep showing each resource's own reason.
 */

/** The same finding as reported by each pack that has the rule. */
const PACKS = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'] as const;
const inPacks = (rule: string, packs: readonly string[] = PACKS) => packs.map((p) => `${p}-${rule}`);

function acknowledge(scope: IConstruct, ruleIds: readonly string[], reason: string): void {
  Validations.of(scope).acknowledge(...ruleIds.map((id) => ({ id, reason })));
}

export const accept = {
  /** A load balancer without a web ACL: internal ones, or one the config explicitly leaves without. */
  loadBalancerWithoutWaf(loadBalancer: IConstruct, reason: string): void {
    acknowledge(loadBalancer, inPacks('ALBWAFEnabled'), reason);
  },
  /**
   * A state machine that logs errors only, without execution data: its states carry alarm states,
   * weights and operators' reasons, and a full execution history is in Step Functions itself.
   */
  stateMachineLogsErrorsOnly(stateMachine: IConstruct, reason: string): void {
    acknowledge(stateMachine, ['AwsSolutions-SF1'], reason);
  },
  /** An SQS queue SNS uses as a subscription's redrive queue: cdk-nag only recognizes SQS-to-SQS redrive. */
  snsRedriveQueue(queue: IConstruct, reason: string): void {
    acknowledge(queue, ['AwsSolutions-SQS3'], reason);
  },
};
