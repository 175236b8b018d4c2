/** Floor entry (bench/floors.ts): the plan's YAML parse, then the one PUT: `rollout floor <plan> <url>`. */
import { main as parsePlanYaml } from './plan.js';
import { main as sendPut } from './request.js';

export async function main(argv: string[]): Promise<number> {
  return (await parsePlanYaml(argv)) || (await sendPut([argv[0]!, argv[2]!]));
}
