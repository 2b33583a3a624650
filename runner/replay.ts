/** The one command that replays a run exactly: the same scenario file, system, fencing and seed. */
export function replayCommand(run: {
  readonly file: string;
  readonly system: string;
  readonly fencing: boolean;
  readonly seed: number;
  readonly mode?: 'sim' | 'live';
}): string {
  return `npx lockstep ${run.mode === 'live' ? 'live' : 'run'} ${run.file} --systems ${run.system} --fencing ${run.fencing ? 'on' : 'off'} --seed ${run.seed}`;
}
