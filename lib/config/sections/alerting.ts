import { z } from 'zod';
import { emailAddress } from '../rules';

/** One subscriber of an alert topic. */
export const subscriptionSchema = z.discriminatedUnion(
  'protocol',
  [
    z.strictObject({ protocol: z.literal('email'), endpoint: emailAddress() }),
    z.strictObject({
      protocol: z.literal('sms'),
      endpoint: z.string().regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form such as +15555550100'),
    }),
    z.strictObject({
      protocol: z.literal('https'),
      endpoint: z.string().regex(/^https:\/\/[^\s/$.?#].[^\s]*$/, 'an https:// URL'),
    }),
  ],
  { error: () => 'a subscription with protocol email, sms or https and an endpoint' },
);

export const alertingSchema = z.strictObject({
  /** Subscribers paged for critical alarms (a paging service's HTTPS endpoint, SMS, e-mail). */
  criticalSubscriptions: z.array(subscriptionSchema).default([]),
  /** Subscribers mailed for warnings. */
  warningSubscriptions: z.array(subscriptionSchema).default([]),
  /** Base URL of docs/RUNBOOK.md as the on-call person opens it; alarm descriptions link to its sections. */
  runbookUrl: z.string().regex(/^https:\/\/\S+$/, 'an https:// URL of docs/RUNBOOK.md'),
});
