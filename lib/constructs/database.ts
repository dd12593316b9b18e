import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { accept } from '../nag/acknowledge';
import type { DatabaseConfig } from '../config';

export interface DatabaseProps {
  readonly config: DatabaseConfig;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Key for storage, Performance Insights and the generated secret (created databases). */
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** Physical identifier of a created instance, e.g. `pipeline-guardrails-dev-db`. */
  readonly createdInstanceIdentifier: string;
  /** Removal policy of the created instance's log groups. */
  readonly logRemovalPolicy: RemovalPolicy;
}

const ENGINE_VERSIONS = {
  '15': rds.PostgresEngineVersion.VER_15,
  '16': rds.PostgresEngineVersion.VER_16,
  '17': rds.PostgresEngineVersion.VER_17,
} as const;

/** A 6-character suffix marks a complete secret ARN; without it the ARN is partial. */
function importSecret(scope: Construct, id: string, arn: string): secretsmanager.ISecret {
  return /-[A-Za-z0-9]{6}$/.test(arn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, arn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, arn);
}

/**
 * The PostgreSQL instance the guardrails protect, with one handle shape whichever mode the config picks:
 * the team's existing RDS instance (imported, never modified) or a small created one for a sandbox.
 */
export class Database extends Construct {
  readonly instance: rds.IDatabaseInstance;
  readonly instanceIdentifier: string;
  readonly endpoint: string;
  readonly port: number;
  readonly databaseName: string;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Admin (owner) credentials: JSON with username and password. */
  readonly credentialsSecret: secretsmanager.ISecret;
  readonly allocatedStorageGiB: number;
  /** True when this app created the instance (and so owns its backups and removal policy). */
  readonly created: boolean;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const cfg = props.config;
    this.databaseName = cfg.databaseName;
    this.port = cfg.port;
    this.allocatedStorageGiB = cfg.allocatedStorageGiB;

    if (cfg.mode === 'existing') {
      this.created = false;
      this.securityGroup = ec2.SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', cfg.securityGroupId, {
        mutable: true,
      });
      this.instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Instance', {
        instanceIdentifier: cfg.instanceIdentifier,
        instanceEndpointAddress: cfg.endpoint,
        port: cfg.port,
        securityGroups: [this.securityGroup],
        engine: rds.DatabaseInstanceEngine.POSTGRES,
      });
      this.credentialsSecret = importSecret(this, 'Credentials', cfg.credentialsSecretArn);
      this.instanceIdentifier = cfg.instanceIdentifier;
      this.endpoint = cfg.endpoint;
      return;
    }

    this.created = true;
    const removalPolicy = {
      destroy: RemovalPolicy.DESTROY,
      snapshot: RemovalPolicy.SNAPSHOT,
      retain: RemovalPolicy.RETAIN,
    }[cfg.removalPolicy];
    const engine = rds.DatabaseInstanceEngine.postgres({ version: ENGINE_VERSIONS[cfg.engineMajorVersion] });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'PostgreSQL created by pipeline-guardrails; ingress only from the guardrails functions',
      allowAllOutbound: false,
    });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      parameters: {
        'rds.force_ssl': '1',
        log_min_duration_statement: '5000',
        // Row counters the integrity checks read; on by default, pinned so nobody turns them off.
        track_counts: '1',
      },
    });
    // Log groups created here (not by the LogRetention custom resource) so retention is plain CloudFormation.
    const logGroups = ['postgresql', 'upgrade'].map(
      (kind) =>
        new logs.LogGroup(this, `${kind}Logs`, {
          logGroupName: `/aws/rds/instance/${props.createdInstanceIdentifier}/${kind}`,
          retention: props.logRetention,
          removalPolicy: props.logRemovalPolicy,
        }),
    );
    const instance = new rds.DatabaseInstance(this, 'Instance', {
      instanceIdentifier: props.createdInstanceIdentifier,
      engine,
      instanceType: new ec2.InstanceType(cfg.instanceClass),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      port: cfg.port,
      databaseName: cfg.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret('guardrails_admin', {
        encryptionKey: props.encryptionKey,
      }),
      storageEncrypted: true,
      storageEncryptionKey: props.encryptionKey,
      allocatedStorage: cfg.allocatedStorageGiB,
      maxAllocatedStorage: cfg.maxAllocatedStorageGiB,
      storageType: rds.StorageType.GP3,
      multiAz: cfg.multiAz,
      backupRetention: Duration.days(cfg.backupRetentionDays),
      copyTagsToSnapshot: true,
      deletionProtection: cfg.deletionProtection,
      removalPolicy,
      iamAuthentication: true,
      parameterGroup,
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
    });
    for (const group of logGroups) instance.node.addDependency(group);
    this.instance = instance;
    this.credentialsSecret = instance.secret!;
    this.instanceIdentifier = instance.instanceIdentifier;
    this.endpoint = instance.dbInstanceEndpointAddress;

    accept.sandboxDatabase(
      instance,
      'Sandbox database created by this app for dev (staging and prod import their instances): single-AZ, basic monitoring, no deletion protection and an unrotated generated secret by config, backed up by its automated backups and the snapshot tool rather than an AWS Backup plan.',
    );
    Validations.of(instance).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Sandbox database: the generated admin secret is not rotated, so a deployment never races a rotation; staging and prod import the team-managed secret.',
    });
    if (!cfg.multiAz) {
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'multiAz is false in this environment config (sandbox cost); prod uses an existing Multi-AZ instance.',
      });
    }
    if (!cfg.deletionProtection) {
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'deletionProtection is false in this environment config so the sandbox can be torn down; prod requires it (validated).',
      });
    }
    if (cfg.port === 5432) {
      Validations.of(instance).acknowledge({
        id: 'AwsSolutions-RDS11',
        reason:
          'The default port is kept so the team’s tools and the seedscale scripts work unchanged; access is limited by security group.',
      });
    }
  }
}
