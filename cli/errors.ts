import { ConfigError } from '../lib/config';
import { NotDeployedError } from './deployed';
import { UsageError } from './io';

/**
 * What went wrong, as a typed value: the one error formatter (`describeFailure`) turns any thrown value into
 * one, and each command maps the kind to its documented exit code.
 */
export type FailureKind =
  /** A bad command line: nothing was called. */
  | 'usage'
  /** The environment's configuration is invalid (lib/config). */
  | 'config'
  /** No AWS credentials, or AWS rejected them (expired, unknown key). */
  | 'credentials'
  /** The credentials work but may not do this (IAM). */
  | 'access-denied'
  /** AWS could not be reached (offline, DNS, a timeout). */
  | 'network'
  /** A parameter the environment should have published is missing. */
  | 'not-deployed'
  /** Another AWS service error. */
  | 'aws'
  /** Anything else: a bug, or a case nobody foresaw. */
  | 'unexpected';

export interface Failure {
  readonly kind: FailureKind;
  /** One line (or a few) for people: what failed. */
  readonly message: string;
  /** What to do about it, in the syntax of the command that failed. */
  readonly hint?: string;
}

/**
 * Error names of the AWS SDK (v3) and the AWS APIs that mean "your credentials". They are compared by
 * name because the classes live in transitive dependencies (`@smithy/core`) this project does not pin, and
 * because an API error's code is a string by AWS's contract (the SDK sets `name` to it).
 */
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const REJECTED_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'TokenRefreshRequired',
]);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AuthorizationError',
  'UnauthorizedOperation',
]);
const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Where an error came from: an AWS API answer carries `$metadata` (and `$fault`). */
function isAwsServiceError(err: Error): boolean {
  return typeof (err as { $metadata?: unknown }).$metadata === 'object' && '$fault' in err;
}

function errnoCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export interface FailureContext {
  /** The environment the command was for, when it got that far: hints name it. */
  readonly envName?: string;
}

/** The one error formatter: any thrown value as a Failure (message and hint), never a stack trace. */
export function describeFailure(err: unknown, ctx: FailureContext = {}): Failure {
  const env = ctx.envName ?? '<env>';
  if (err instanceof UsageError) return { kind: 'usage', message: err.message };
  if (err instanceof ConfigError) return { kind: 'config', message: err.message };
  if (err instanceof NotDeployedError) return { kind: 'not-deployed', message: err.message };
  if (!(err instanceof Error)) return { kind: 'unexpected', message: String(err) };
  if (NO_CREDENTIALS.has(err.name)) {
    return {
      kind: 'credentials',
      message: `no AWS credentials found (${err.message})`,
      hint: `sign in for the ${env} account: aws sso login --profile <profile> and export AWS_PROFILE=<profile> (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
    };
  }
  if (REJECTED_CREDENTIALS.has(err.name)) {
    return {
      kind: 'credentials',
      message: `AWS rejected the credentials (${err.name}: ${err.message})`,
      hint: `they are expired or not for this partition: sign in again for the ${env} account (aws sso login)`,
    };
  }
  if (ACCESS_DENIED.has(err.name)) {
    return {
      kind: 'access-denied',
      message: `AWS denied the call (${err.name}: ${err.message})`,
      hint: `use credentials of a role in the ${env} account that is allowed this call`,
    };
  }
  const code = errnoCode(err);
  if ((code !== undefined && NETWORK_CODES.has(code)) || err.name === 'TimeoutError') {
    return {
      kind: 'network',
      message: `AWS could not be reached (${code ?? err.name}: ${err.message})`,
      hint: 'check the network (a proxy: HTTPS_PROXY) and try again; nothing was changed by this call',
    };
  }
  if (isAwsServiceError(err)) return { kind: 'aws', message: `${err.name}: ${err.message}` };
  return { kind: 'unexpected', message: `${err.name}: ${err.message}` };
}

/** The stderr text of a failure: `error: ...`, then `hint: ...` when there is one. */
export function formatFailure(f: Failure): string {
  return `error: ${f.message}\n${f.hint ? `hint: ${f.hint}\n` : ''}`;
}
