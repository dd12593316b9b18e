import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** The AWS managed rule groups of the managed web ACL, in evaluation order. */
export const MANAGED_RULE_GROUPS = [
  // OWASP-style protections (cross-site scripting, bad bots, size limits, local file inclusion, ...).
  'AWSManagedRulesCommonRuleSet',
  // Request patterns known to exploit vulnerabilities (Log4j, Java deserialization, ...).
  'AWSManagedRulesKnownBadInputsRuleSet',
  // Sources Amazon threat intelligence lists as bots, scanners and attackers.
  'AWSManagedRulesAmazonIpReputationList',
] as const;

/** Which web ACL protects a load balancer: one the team runs, one this app manages, or none. */
export type WebAclChoice =
  | { readonly kind: 'existing'; readonly webAclArn: string }
  | { readonly kind: 'managed' }
  | { readonly kind: 'none' };

export interface LoadBalancerWebAclProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** `none` builds nothing (the caller decides whether that needs a warning). */
  readonly choice: WebAclChoice;
  /** `<project>-<env>`: the managed ACL's name and metric prefix. */
  readonly namePrefix: string;
  /** Retention of the managed ACL's request log. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * AWS WAF in front of an Application Load Balancer: associates an existing regional web ACL
 * (`routing.loadBalancer.wafWebAclArn`), or creates one with the AWS managed rule groups above (common,
 * known bad inputs, IP reputation), each with its CloudWatch metrics and sampled requests.
 */
export class LoadBalancerWebAcl extends Construct {
  /** The ACL created here (managed choice only). */
  readonly webAcl?: wafv2.CfnWebACL;
  /** ARN of the ACL the load balancer is associated with; undefined with `none`. */
  readonly webAclArn?: string;
  /** The managed ACL's log of blocked and counted requests (`aws-waf-logs-...`, as WAF requires). */
  readonly logGroup?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LoadBalancerWebAclProps) {
    super(scope, id);
    const { choice, namePrefix } = props;
    if (choice.kind === 'none') return;
    if (choice.kind === 'managed') {
      const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
        cloudWatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName,
      });
      this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
        name: `${namePrefix}-routing`,
        description: `${namePrefix}: AWS managed rules in front of the blue-green load balancer`,
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        visibilityConfig: visibility(`${namePrefix}-routing`),
        rules: MANAGED_RULE_GROUPS.map((name, priority) => ({
          name,
          priority,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
          visibilityConfig: visibility(`${namePrefix}-${name}`),
        })),
      });
      this.webAclArn = this.webAcl.attrArn;
      const logGroupName = `aws-waf-logs-${namePrefix}-routing`;
      this.logGroup = new logs.LogGroup(this, 'Logs', {
        logGroupName,
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      });
      const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
        resourceArn: this.webAcl.attrArn,
        // WAF wants the log group ARN without the trailing ":*" of logGroupArn.
        logDestinationConfigs: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: logGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
        // Credentials never reach the log.
        redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
        // Only what WAF acted on: blocks and counts, not every allowed request.
        loggingFilter: {
          DefaultBehavior: 'DROP',
          Filters: [
            {
              Behavior: 'KEEP',
              Requirement: 'MEETS_ANY',
              Conditions: [
                { ActionCondition: { Action: 'BLOCK' } },
                { ActionCondition: { Action: 'COUNT' } },
              ],
            },
          ],
        },
      });
      logging.node.addDependency(this.logGroup);
    } else {
      this.webAclArn = choice.webAclArn;
    }
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.loadBalancer.loadBalancerArn,
      webAclArn: this.webAclArn,
    });
  }
}

/** What the config asks for: an existing ACL, else `waf`, else managed in prod when internet-facing. */
export function webAclChoice(
  envName: string,
  lb: { readonly internetFacing: boolean; readonly waf?: 'managed' | 'none'; readonly wafWebAclArn?: string },
): WebAclChoice {
  if (lb.wafWebAclArn !== undefined) return { kind: 'existing', webAclArn: lb.wafWebAclArn };
  const kind = lb.waf ?? (envName === 'prod' && lb.internetFacing ? 'managed' : 'none');
  return kind === 'managed' ? { kind } : { kind: 'none' };
}
