/** Plans for tests, written as YAML and loaded through the real loader. */
import { parsePlan } from '../../src/plan/load-plan.js';
import { Secrets } from '../../src/plan/secrets.js';
import type { Plan } from '../../src/plan/types.js';

/** Loads plan YAML (as `dir/plan.yaml`); `env` feeds `${VAR}`s. */
export function planFromYaml(text: string, options: { dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Plan> {
  return parsePlan(text, `${options.dir ?? '/tmp'}/plan.yaml`, { env: options.env ?? {}, secrets: new Secrets() });
}

/** A plan with one prometheus source and the given metrics block (YAML list items). */
export function planWithMetrics(metricsYaml: string, extra = ''): Promise<Plan> {
  return planFromYaml(`
version: 1
name: judged
stages: [10, 50, 100]
analysis: { interval: 10s, bake: 10m, failureLimit: 2 }
sources:
  prom: { type: prometheus, url: "http://127.0.0.1:9" }
metrics:
${metricsYaml}
target: { type: command, set: [echo, "{{percent}}"] }
${extra}
`);
}

/**
 * A plan whose metric `errors` compares canary with baseline (effect +50%), its counts read from a
 * json source's document at canary.errors, canary.requests, baseline.errors, baseline.requests.
 */
export function comparisonPlan(options: { name: string; url: string; stages?: string; analysis?: string; moreMetrics?: string }): Promise<Plan> {
  return planFromYaml(`
version: 1
name: ${options.name}
stages: ${options.stages ?? '[10, 100]'}
analysis: ${options.analysis ?? '{}'}
sources: { app: { type: json, url: "${options.url}" } }
metrics:
  - name: errors
    source: app
    compare:
      canary: { events: canary.errors, total: canary.requests }
      baseline: { events: baseline.errors, total: baseline.requests }
      effect: "+50%"
${options.moreMetrics ?? ''}
target: { type: command, set: [echo, "{{percent}}"] }
`);
}
