/**
 * The data checker's public surface. The work is split by idea:
 * - sweep.ts: one run (connection, transaction, catalog and counters, freshness, custom checks);
 * - table-check.ts: one table (whether and what to read, the next state, its rule results);
 * - decide.ts: the loss decisions, pure (typed reasons, key-range comparison, rotating audit);
 * - exact.ts: the exact reads (count, key ranges); schema-fingerprint.ts: columns and primary key;
 * - state.ts: the state entry schema, shared by every reader and writer.
 */
export { formatAge, runChecks, type RunOptions } from './sweep';
export type {
  CustomReport,
  FreshnessReport,
  RuleName,
  RuleResult,
  RuleStatus,
  RunReport,
  TableReport,
} from './results';
export { judgeSchema, readFingerprints } from './schema-fingerprint';
export { exactCount, readKeyRanges } from './exact';
export { lookReason, compareRanges, planAudit } from './decide';
