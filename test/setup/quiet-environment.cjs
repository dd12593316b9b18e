// jest test environment: Node's, with what the code under test writes straight to process.stdout (the
// handlers' JSON log lines) held back per test and shown only when that test fails, and so are the CDK's
// "Bundling asset ..." progress lines on stderr (every other stderr write, jest's own included, passes). A
// passing run prints jest's report and nothing else. jest's console capture (console.log in a test) is untouched.
// Set PIPELINE_GUARDRAILS_TEST_LOGS=1 to see every line as it is written.
const { Buffer } = require('node:buffer');
const { TestEnvironment } = require('jest-environment-node');

/** The CDK's asset bundling progress (aws-cdk-lib AssetStaging), written to stderr. */
const CDK_PROGRESS = /^Bundling asset \S+\.\.\.\r?\n?$/;

class QuietEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.held = [];
    this.stream = process.stdout;
    this.originalWrite = null;
    this.originalErrWrite = null;
  }

  async setup() {
    await super.setup();
    if (process.env.PIPELINE_GUARDRAILS_TEST_LOGS === '1') return;
    const stream = this.stream;
    const original = stream.write;
    this.originalWrite = original;
    const held = this.held;
    stream.write = function holdBack(chunk, encoding, callback) {
      held.push(
        typeof chunk === 'string'
          ? chunk
          : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'),
      );
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done);
      return true;
    };
    const errWrite = process.stderr.write;
    this.originalErrWrite = errWrite;
    process.stderr.write = function holdBackBundling(chunk, ...rest) {
      if (typeof chunk === 'string' && CDK_PROGRESS.test(chunk)) {
        held.push(chunk);
        const done = rest.find((r) => typeof r === 'function');
        if (done) process.nextTick(done);
        return true;
      }
      return errWrite.call(process.stderr, chunk, ...rest);
    };
  }

  async teardown() {
    if (this.originalWrite) this.stream.write = this.originalWrite;
    if (this.originalErrWrite) process.stderr.write = this.originalErrWrite;
    this.originalWrite = null;
    this.originalErrWrite = null;
    await super.teardown();
  }

  /** What was held back, for a failed test (or hook): written to stderr under the test's name. */
  release(title) {
    if (this.held.length === 0 || !this.originalWrite) return;
    const text = this.held.join('');
    this.held.length = 0;
    const write = this.originalErrWrite ?? process.stderr.write;
    write.call(
      process.stderr,
      `\n--- stdout of ${title} (held back because it failed) ---\n${text}--- end ---\n`,
    );
  }

  handleTestEvent(event) {
    if (event.name === 'test_start') this.held.length = 0;
    if (event.name === 'test_done') {
      if (event.test.errors.length > 0) this.release(fullName(event.test));
      this.held.length = 0;
    }
    if (event.name === 'hook_failure') this.release(`${event.hook.type} hook`);
  }
}

function fullName(test) {
  const names = [];
  for (let t = test; t && t.name !== 'ROOT_DESCRIBE_BLOCK'; t = t.parent) names.unshift(t.name);
  return names.join(' > ');
}

module.exports = QuietEnvironment;
