import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { accept } from '../nag/acknowledge';

export interface StateTableProps {
  readonly encryptionKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The environment's durable memory: one DynamoDB table keyed by `pk` / `sk`, shared by the capabilities,
 * each under its own `pk` prefix (`checks#...` for the data checks' baselines, `shift#...` for the traffic
 * shift's audit and lock, `snapshots#...`). Point-in-time recovery on, encrypted with the data key,
 * optional item expiry in the `expiresAt` attribute (epoch seconds).
 */
export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy,
      deletionProtection: false,
    });
    accept.backedUpWithoutBackupPlan(
      this.table,
      'Point-in-time recovery (35 days, to the second) protects the state table; an AWS Backup plan would add daily copies of baselines and audit records that PITR already covers.',
    );
  }
}
