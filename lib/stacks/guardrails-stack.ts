import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { resourcePrefix } from '../project';
import { AlarmFactory } from '../constructs/alarm-factory';
import { AlertTopics } from '../constructs/alert-topics';
import { publishDeploymentParameter } from '../constructs/deployment-parameter';
import type { StatefulStack } from './stateful-stack';

export interface GuardrailsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** Network, database, keys and state table of the same environment. */
  readonly stateful: StatefulStack;
}

/**
 * The stateless guardrails of one environment: alert topics and the alarm factory every capability uses,
 * then the capabilities (data checks, snapshots, routing, dashboard) as they are built.
 */
export class GuardrailsStack extends Stack {
  readonly topics: AlertTopics;
  readonly alarms: AlarmFactory;

  constructor(scope: Construct, id: string, props: GuardrailsStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const prefix = resourcePrefix(config.envName);

    this.topics = new AlertTopics(this, 'AlertTopics', {
      config: config.alerting,
      namePrefix: prefix,
      key: stateful.keys.alerting,
    });
    this.alarms = new AlarmFactory(this, 'AlarmFactory', {
      topics: this.topics,
      namePrefix: prefix,
      runbookUrl: config.alerting.runbookUrl,
    });
    publishDeploymentParameter(
      this,
      'CriticalTopicParameter',
      config.envName,
      'alerting/critical-topic-arn',
      this.topics.critical.topicArn,
      'Critical (paging) alert topic',
    );
    publishDeploymentParameter(
      this,
      'WarningTopicParameter',
      config.envName,
      'alerting/warning-topic-arn',
      this.topics.warning.topicArn,
      'Warning (mail) alert topic',
    );
  }
}
