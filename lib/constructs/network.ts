import { Annotations, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { NetworkConfig } from '../config';

export interface NetworkProps {
  readonly config: NetworkConfig;
  /** Retention of the VPC flow log (created VPCs only). */
  readonly flowLogRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The environment's VPC: the team's existing one, imported from explicit ids (no look-up, so synth needs
 * no credentials), or a new one for a sandbox account.
 */
export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  /** Where functions, services and a created database run. */
  readonly privateSubnets: ec2.SubnetSelection;
  /** Where an internet-facing load balancer goes; empty when the config gives none. */
  readonly publicSubnets: ec2.SubnetSelection;
  readonly hasPublicSubnets: boolean;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const cfg = props.config;
    if (cfg.mode === 'existing') {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: cfg.vpcId,
        availabilityZones: cfg.availabilityZones,
        privateSubnetIds: cfg.privateSubnetIds,
        publicSubnetIds: cfg.publicSubnetIds.length > 0 ? cfg.publicSubnetIds : undefined,
      });
      this.hasPublicSubnets = cfg.publicSubnetIds.length > 0;
      Annotations.of(this).acknowledgeWarning(
        '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'Imported subnets are only placed into; nothing here reads or changes their route tables.',
      );
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(cfg.cidr),
        availabilityZones: cfg.availabilityZones,
        natGateways: cfg.natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
        restrictDefaultSecurityGroup: true,
      });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'FlowLogGroup', {
            retention: props.flowLogRetention,
            removalPolicy: props.removalPolicy,
          }),
        ),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
      this.hasPublicSubnets = true;
    }
    this.privateSubnets = { subnets: this.vpc.privateSubnets };
    this.publicSubnets = { subnets: this.vpc.publicSubnets };
  }
}
