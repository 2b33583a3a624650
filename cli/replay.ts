import type { SystemId } from '../backends/recipe.ts';

/** The one command that replays a run exactly. */
export function replayCommand(item: { file: string; system: SystemId; fencing: boolean; seed: number }): string {
  return `npx lockstep run ${item.file} --systems ${item.system} --fencing ${item.fencing ? 'on' : 'off'} --seed ${item.seed}`;
}
