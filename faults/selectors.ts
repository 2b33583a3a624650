/**
 * Selectors to nodes. A selector resolves when its fault fires, so `holder` and `leader` mean
 * whoever holds or leads at that moment.
 */
import type { Cast } from './kind.ts';

/** The first majority of the servers, in order; the rest are the minority. */
export function majorityOf(servers: readonly string[]): string[] {
  return servers.slice(0, Math.floor(servers.length / 2) + 1);
}

/** The nodes a selector names right now. */
export function resolve(selector: string, cast: Cast): string[] {
  switch (selector) {
    case 'clients':
      return [...cast.clients];
    case 'servers':
      return [...cast.servers];
    case 'sentinels':
      return [...cast.sentinels];
    case 'elected':
    case 'holder': {
      const holder = cast.holder();
      return holder === null ? [] : [holder];
    }
    case 'leader': {
      const leader = cast.leader();
      return leader === null || leader === undefined ? [] : [leader];
    }
    case 'majority':
      return majorityOf(cast.servers);
    case 'minority':
      return cast.servers.slice(majorityOf(cast.servers).length);
    case 'one':
      return [cast.pick(cast.servers)];
    default:
      return [selector];
  }
}

/**
 * Whether a selector can name a server process of a system of `servers` servers: a server, or a
 * Sentinel beside them (an unknown Sentinel is refused before this is asked: faults/plan.ts).
 */
export function namesServer(selector: string, servers: number): boolean {
  return (
    ['servers', 'leader', 'majority', 'minority', 'one', 'sentinels'].includes(selector) ||
    (/^server-(\d+)$/.test(selector) && Number(selector.slice(7)) <= servers) ||
    /^sentinel-\d+$/.test(selector)
  );
}

/** Whether a selector names only clients, whoever holds the lock when it fires. */
export function namesOnlyClients(selector: string): boolean {
  return ['holder', 'elected', 'clients'].includes(selector) || /^c\d+$/.test(selector);
}
