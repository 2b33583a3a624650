import type { Host } from '../../../sim/node.ts';

/**
 * The leader of the highest term among the servers that believe they lead (a deposed leader may
 * not know it yet); null while none does. `probe` reads a live server's view of itself.
 */
export function highestLeader(
  ids: readonly string[],
  hostOf: (id: string) => Host,
  probe: (host: Host) => { readonly isLeader: boolean; readonly term: number } | undefined,
): string | null {
  let leader: { id: string; term: number } | null = null;
  for (const id of ids) {
    const host = hostOf(id);
    const view = host.alive ? probe(host) : undefined;
    if (view?.isLeader === true && (leader === null || view.term > leader.term)) leader = { id, term: view.term };
  }
  return leader?.id ?? null;
}
