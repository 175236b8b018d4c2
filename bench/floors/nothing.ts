/** Floor entry (bench/floors.ts): a command that does nothing, to time bin/rollout.js and Node alone. */
export async function main(): Promise<number> {
  return 0;
}
