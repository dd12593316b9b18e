import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * A capability's part of the environment dashboard: a titled section of widget rows. Capabilities
 * (data checks, snapshots, database health, routing) expose one; the dashboard lays them out in order.
 * A capability that is not configured returns no section, so the dashboard never shows empty widgets.
 */
export interface DashboardSection {
  readonly title: string;
  /** One or two sentences under the title: what to look for. */
  readonly description?: string;
  readonly rows: readonly (readonly cloudwatch.IWidget[])[];
}
