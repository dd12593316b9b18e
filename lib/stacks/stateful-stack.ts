import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { resourcePrefix } from '../project';
import { Database } from '../constructs/database';
import { publishDeploymentParameter } from '../constructs/deployment-parameter';
import { Keys } from '../constructs/keys';
import { Network } from '../constructs/network';
import { StateTable } from '../constructs/state-table';

export interface StatefulStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** Removal policy of the app's own stateful resources (keys, state table, log groups): kept outside dev. */
export function statefulRemovalPolicy(config: EnvironmentConfig): RemovalPolicy {
  return config.envName === 'dev' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/**
 * What must survive every redeploy: the network, the database (imported or created), the keys and the
 * state table. The stateless guardrails stack depends on this one, never the other way round.
 */
export class StatefulStack extends Stack {
  readonly network: Network;
  readonly keys: Keys;
  readonly database: Database;
  readonly state: StateTable;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = statefulRemovalPolicy(config);
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    this.keys = new Keys(this, 'Keys', { namePrefix: resourcePrefix(config.envName), removalPolicy });
    this.network = new Network(this, 'Network', {
      config: config.network,
      flowLogRetention: logRetention,
      removalPolicy,
    });
    this.database = new Database(this, 'Database', {
      config: config.database,
      vpc: this.network.vpc,
      subnets: this.network.privateSubnets,
      encryptionKey: this.keys.data,
      logRetention,
      createdInstanceIdentifier: `${resourcePrefix(config.envName)}-db`,
      logRemovalPolicy: removalPolicy,
    });
    this.state = new StateTable(this, 'State', { encryptionKey: this.keys.data, removalPolicy });
    publishDeploymentParameter(
      this,
      'StateTableNameParameter',
      config.envName,
      'state/table-name',
      this.state.table.tableName,
      'State table (check baselines, shift audit and lock)',
    );
    publishDeploymentParameter(
      this,
      'DatabaseInstanceParameter',
      config.envName,
      'database/instance-identifier',
      this.database.instanceIdentifier,
      'RDS instance the guardrails protect (the primary)',
    );
  }
}
