/** The one command that replays a run exactly: the same scenario file, system, fencing and seed. */
export function replayCommand(run: {
  readonly file: string;
  readonly system: string;
  /** A subject run: as given to --subject (a built-in name or its file). */
  readonly subject?: string | null;
  readonly fencing: boolean;
  readonly seed: number;
  readonly mode?: 'sim' | 'live';
}): string {
  const subject = run.subject == null ? '' : ` --subject ${run.subject}`;
  return `npx lockstep ${run.mode === 'live' ? 'live' : 'run'} ${run.file} --systems ${run.system}${subject} --fencing ${run.fencing ? 'on' : 'off'} --seed ${run.seed}`;
}
