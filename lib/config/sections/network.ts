import { z } from 'zod';
import { availabilityZone, subnetId, vpcId } from '../rules';

/**
 * Where the environment's resources run.
 * - `existing`: a VPC the team already has, given explicitly (no look-ups, so synth needs no credentials).
 * - `create`: a new VPC for a sandbox account (public + private subnets, one NAT gateway, flow logs).
 */
export const existingNetworkSchema = z.strictObject({
  mode: z.literal('existing'),
  /** The VPC id. */
  vpcId: vpcId(),
  /** The availability zones of the subnets below, in the same order. */
  availabilityZones: z.array(availabilityZone()).min(1, 'at least one availability zone'),
  /** Private subnets (one per availability zone) where the functions and services run. */
  privateSubnetIds: z.array(subnetId()).min(1, 'at least one private subnet id'),
  /** Public subnets (one per availability zone), needed only for an internet-facing load balancer. @default [] */
  publicSubnetIds: z.array(subnetId()).default([]),
});

export const createNetworkSchema = z.strictObject({
  mode: z.literal('create'),
  /** IPv4 CIDR of the new VPC. */
  cidr: z
    .string()
    .regex(
      /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-8])$/,
      'an IPv4 CIDR block from /16 to /28 such as 10.40.0.0/16',
    ),
  /** Availability zones to spread the subnets over (at least two, as RDS and ALB need). */
  availabilityZones: z.array(availabilityZone()).min(2, 'at least two availability zones'),
  /** NAT gateways for the private subnets' egress. @default 1 */
  natGateways: z.number().int('an integer from 0 to 3').min(0).max(3, 'an integer from 0 to 3').default(1),
});

export const networkSchema = z.discriminatedUnion('mode', [existingNetworkSchema, createNetworkSchema], {
  error: () => 'mode "existing" (vpcId, subnets, availabilityZones) or "create" (cidr, availabilityZones)',
});
