/** Thrown when a handler is deployed without a variable it needs: a wiring bug, never retried away. */
export class MissingEnvironmentVariableError extends Error {
  constructor(readonly variable: string) {
    super(`Environment variable ${variable} is required but not set`);
    this.name = 'MissingEnvironmentVariableError';
  }
}

/** Reads a required environment variable; throws MissingEnvironmentVariableError when unset or empty. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new MissingEnvironmentVariableError(name);
  return value;
}

/** Reads an optional environment variable, with a default. */
export function optionalEnv(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
