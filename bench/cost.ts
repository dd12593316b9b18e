/**
 * `npm run bench -- cost`: the guardrails' monthly cost per environment, computed from the synthesized templates
 * at us-east-1 list prices (bench/cost-model.ts says what is counted and how). Target: at most $25 a month per
 * environment, excluding the load balancer, Fargate, RDS and a NAT gateway (shown, not summed).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig, type EnvironmentConfig } from '../lib/config';
import { createStacks } from '../lib/create-stacks';
import { ENVIRONMENT_NAMES } from '../lib/project';
import { costReport, TARGET_USD_PER_MONTH } from './cost-model';
import type { Benchmark } from './index';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Synthesizes one environment (no bundling: asset hashes do not change prices) and returns its templates. */
export function synthTemplates(envName: string): { config: EnvironmentConfig; templates: Json[] } {
  const config = loadConfig(envName);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = createStacks(app, config);
  app.synth();
  return {
    config,
    templates: [Template.fromStack(stacks.stateful).toJSON(), Template.fromStack(stacks.guardrails).toJSON()],
  };
}

const usd = (n: number) => `$${n.toFixed(2).padStart(6)}`;

const bench: Benchmark = {
  async run() {
    let ok = true;
    for (const env of ENVIRONMENT_NAMES) {
      const { config, templates } = synthTemplates(env);
      const report = costReport(config, templates);
      console.log(`  ${env}`);
      for (const group of ['guardrails', 'excluded'] as const) {
        if (group === 'excluded') console.log('    shown, not in the target:');
        for (const l of report.lines.filter((x) => x.group === group))
          console.log(`    ${l.item.padEnd(78).slice(0, 78)} ${usd(l.usd)}  ${l.how}`);
      }
      console.log(
        `    ${'TOTAL guardrails (target <= $' + TARGET_USD_PER_MONTH + ')'}${' '.repeat(46)} ${usd(report.total)}   (not in it: ${usd(report.excluded).trim()})`,
      );
      if (report.total > TARGET_USD_PER_MONTH) ok = false;
    }
    return ok;
  },
};
export default bench;
