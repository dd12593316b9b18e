/**
 * The Node.js decision (README, "Node.js"): this project supports Node.js 20 and later (`engines`), and
 * `.nvmrc` names 22, what new machines should run. The AWS SDK for JavaScript v3 warns on every client
 * created under Node 20 that its releases *after the first week of January 2027* will need Node 22; the
 * SDK version pinned in package-lock.json runs on 20, so on Node 20 that warning is about a future upgrade,
 * not this program, and our processes switch it off with the SDK's documented opt-out
 * (aws/aws-sdk-js-v3#7983). test/node-support.test.ts fails once the pinned SDK itself needs Node 22:
 * then `engines` moves to >=22 and this file goes.
 *
 * Imported first by cli/main.ts (and set by jest's setup), before any SDK client is constructed.
 */
export const SDK_WARNING_OPT_OUT = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Node majors this project supports although the SDK's warning names them. */
export const SUPPORTED_BELOW_SDK_FUTURE_MINIMUM = [20];

export function silenceSdkNodeWarning(env: NodeJS.ProcessEnv, nodeVersion: string): void {
  const major = Number(/^v(\d+)\./.exec(nodeVersion)?.[1]);
  if (SUPPORTED_BELOW_SDK_FUTURE_MINIMUM.includes(major) && env[SDK_WARNING_OPT_OUT] === undefined) {
    env[SDK_WARNING_OPT_OUT] = 'true';
  }
}

silenceSdkNodeWarning(process.env, process.version);
