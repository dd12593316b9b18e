import { requireEnv } from '../shared/env';

/** A required environment variable that must be a positive integer (rejects NaN, 0, fractions). */
export function positiveIntEnv(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = requireEnv(name, env);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} is ${JSON.stringify(raw)}, expected a positive integer`);
  return n;
}
