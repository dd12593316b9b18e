import { z } from 'zod';

/** RDS snapshot automation (issue: snapshot automation). Empty until that capability is built. */
export const snapshotsSchema = z.strictObject({});
