import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

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

/** Horizontal lines for an alarm's thresholds: warning orange, critical red, labelled `warning > 80%`. */
export function thresholdLines(
  thresholds: { readonly warning?: number; readonly critical?: number },
  worseWhen: 'higher' | 'lower',
  unit = '',
): cloudwatch.HorizontalAnnotation[] {
  return (['warning', 'critical'] as const).flatMap((severity) => {
    const value = thresholds[severity];
    return value === undefined
      ? []
      : [
          {
            value,
            label: `${severity} ${worseWhen === 'higher' ? '>' : '<'} ${value}${unit}`,
            color: severity === 'critical' ? cloudwatch.Color.RED : cloudwatch.Color.ORANGE,
          },
        ];
  });
}
