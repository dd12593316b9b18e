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
 * the app: test/lib/nag-packs.test.ts keeps every pack at 0 and every acknowledgement on a resource.
 */

/** The compliance packs that share rule names (`<pack>-<rule>`). */
const COMPLIANCE = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'] as const;
const inPacks = (rule: string, packs: readonly string[] = COMPLIANCE) => packs.map((p) => `${p}-${rule}`);

function acknowledge(scope: IConstruct, ruleIds: readonly string[], reason: string): void {
  if (reason.trim().length < 20)
    throw new Error(`${scope.node.path}: an acknowledgement needs a real reason`);
  Validations.of(scope).acknowledge(...ruleIds.map((id) => ({ id, reason })));
}

export const accept = {
  /**
   * A metric alarm whose page a composite alarm sends (AlarmFactory.holdPageWhile): its own actions are
   * removed so the composite's actions suppressor can hold the page; the composite has the alarm and OK actions.
   */
  alarmPagedByComposite(alarm: IConstruct, reason: string): void {
    acknowledge(alarm, inPacks('CloudWatchAlarmAction', ['NIST.800.53.R5', 'HIPAA.Security']), reason);
  },

  /**
   * A state machine that logs errors only, without execution data: its states carry alarm states,
   * weights and operators' reasons, and a full execution history is in Step Functions itself.
   */
  stateMachineLogsErrorsOnly(stateMachine: IConstruct, reason: string): void {
    acknowledge(stateMachine, ['AwsSolutions-SF1'], reason);
  },

  /** A load balancer without a web ACL: internal ones, or one the config explicitly leaves without. */
  loadBalancerWithoutWaf(loadBalancer: IConstruct, reason: string): void {
    acknowledge(loadBalancer, inPacks('ALBWAFEnabled'), reason);
  },

  /** An SQS queue SNS uses as a subscription's redrive queue: cdk-nag only recognizes SQS-to-SQS redrive. */
  snsRedriveQueue(queue: IConstruct, reason: string): void {
    acknowledge(queue, ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy'], reason);
  },

  /** A queue that is itself a dead-letter queue (of a rule target or a function): it needs none of its own. */
  deadLetterQueue(queue: IConstruct, reason: string): void {
    acknowledge(queue, ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy'], reason);
  },

  /**
   * The inline policy CDK writes for one role's grants (`<role>/DefaultPolicy`, a custom resource's
   * policy). It belongs to that role alone and is deleted with it; a customer-managed policy instead
   * would be a shared object nobody else attaches.
   */
  roleOwnPolicy(policy: IConstruct, reason: string): void {
    acknowledge(policy, inPacks('IAMNoInlinePolicy'), reason);
  },

  /** A function that calls AWS APIs only (no database, nothing in a VPC): a VPC would add NAT cost and a failure mode. */
  functionOutsideVpc(fn: IConstruct, reason: string): void {
    acknowledge(fn, inPacks('LambdaInsideVPC'), reason);
  },

  /** A function without reserved concurrency: invoked only by its own schedule, rule or state machine. */
  unreservedConcurrency(fn: IConstruct, reason: string): void {
    acknowledge(fn, inPacks('LambdaConcurrency', ['NIST.800.53.R5', 'HIPAA.Security']), reason);
  },

  /**
   * A function whose failed invocations need no dead-letter queue or failure destination: synchronous
   * callers (Step Functions, CloudFormation) see the error, and scheduled or alarm-driven runs are
   * watched by an alarm on the function's errors.
   */
  failuresWatchedElsewhere(fn: IConstruct, reason: string): void {
    acknowledge(
      fn,
      [
        ...inPacks('LambdaDLQ', ['NIST.800.53.R5', 'HIPAA.Security']),
        'Serverless-LambdaDLQ',
        'Serverless-LambdaAsyncFailureDestination',
      ],
      reason,
    );
  },

  /** CDK's own provider function (AwsCustomResource): its memory and tracing are CDK's, it runs at deploy only. */
  cdkProviderFunction(fn: IConstruct, reason: string): void {
    acknowledge(fn, ['Serverless-LambdaDefaultMemorySize', 'Serverless-LambdaTracing'], reason);
  },

  /** An EventBridge rule whose target's failed deliveries are alarmed (FailedInvocations) instead of queued. */
  ruleDeliveriesAlarmed(rule: IConstruct, reason: string): void {
    acknowledge(rule, ['Serverless-EventBusDLQ'], reason);
  },

  /** Settings of a sandbox (dev) database: single-AZ, no enhanced monitoring, no deletion protection. */
  sandboxDatabase(instance: IConstruct, reason: string): void {
    acknowledge(
      instance,
      [
        ...inPacks('RDSMultiAZSupport', ['NIST.800.53.R5', 'HIPAA.Security']),
        ...inPacks('RDSEnhancedMonitoringEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
        ...inPacks('RDSInstanceDeletionProtectionEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
        ...inPacks('RDSInBackupPlan', ['NIST.800.53.R5', 'HIPAA.Security']),
        ...inPacks('SecretsManagerRotationEnabled'),
      ],
      reason,
    );
  },

  /** A secret whose value its owner replaces on every use (a drill's throw-away copy), so rotation has no job. */
  secretRotatedByItsOwner(secret: IConstruct, reason: string): void {
    acknowledge(
      secret,
      [
        'AwsSolutions-SMG4',
        ...inPacks('SecretsManagerRotationEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
      ],
      reason,
    );
  },

  /** A secret encrypted with the AWS managed key of Secrets Manager rather than a customer managed key. */
  secretWithAwsManagedKey(secret: IConstruct, reason: string): void {
    acknowledge(secret, inPacks('SecretsManagerUsingKMSKey'), reason);
  },

  /** Data protected by its own service's backups (DynamoDB point-in-time recovery) rather than an AWS Backup plan. */
  backedUpWithoutBackupPlan(resource: IConstruct, reason: string): void {
    acknowledge(resource, inPacks('DynamoDBInBackupPlan', ['NIST.800.53.R5', 'HIPAA.Security']), reason);
  },

  /** A public subnet of a VPC this app creates (sandbox): it holds the NAT gateway only. */
  sandboxPublicSubnet(subnet: IConstruct, reason: string): void {
    acknowledge(
      subnet,
      [...inPacks('VPCNoUnrestrictedRouteToIGW'), ...inPacks('VPCSubnetAutoAssignPublicIpDisabled')],
      reason,
    );
  },

  /** A sandbox load balancer without deletion protection (prod requires it, validated). */
  sandboxLoadBalancer(loadBalancer: IConstruct, reason: string): void {
    acknowledge(
      loadBalancer,
      inPacks('ELBDeletionProtectionEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
      reason,
    );
  },

  /** A plain-HTTP listener of an internal (VPC-only) sandbox load balancer, allowed by config. */
  internalPlainHttpListener(listener: IConstruct, reason: string): void {
    acknowledge(
      listener,
      [...inPacks('ALBHttpToHttpsRedirection'), ...inPacks('ELBv2ACMCertificateRequired')],
      reason,
    );
  },

  /** A port-80 listener whose only action redirects to HTTPS: there is nothing to put a certificate on. */
  redirectOnlyListener(listener: IConstruct, reason: string): void {
    acknowledge(listener, inPacks('ELBv2ACMCertificateRequired'), reason);
  },

  /**
   * The load balancer's access-log bucket: ALB log delivery writes SSE-S3 only (not SSE-KMS); logging,
   * versioning and replication of a log sink would log the logs.
   */
  accessLogBucket(bucket: IConstruct, reason: string): void {
    acknowledge(
      bucket,
      [
        ...inPacks('S3DefaultEncryptionKMS'),
        ...inPacks('S3BucketLoggingEnabled'),
        ...inPacks('S3BucketVersioningEnabled'),
        ...inPacks('S3BucketReplicationEnabled'),
      ],
      reason,
    );
  },
};
