import { z } from 'zod';

/** Weighted blue-green routing (issue: routing and traffic shift). Empty until that capability is built. */
export const routingSchema = z.strictObject({});
