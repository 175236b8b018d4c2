/** `rollout schema`: prints the plan's JSON Schema (generated from the validator's definition). */
import { ExitCode } from '../errors.js';
import { planJsonSchema } from '../plan/schema.js';
import type { CommandContext, CommandResult } from '../context.js';

/** Prints the JSON Schema. */
export async function schemaCommand(ctx: CommandContext): Promise<CommandResult> {
  ctx.out.print(JSON.stringify(await planJsonSchema(), null, 2));
  return { exitCode: ExitCode.ok };
}
