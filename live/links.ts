/**
 * The Toxiproxy proxies of one live run: one per client-server and client-register link, and the
 * toxics that cut, slow down or lose on it. Client -> server bytes are a proxy's upstream
 * stream; server -> client, downstream.
 */
import type { PartitionMode } from '../sim/network.ts';
import type { Cluster } from './cluster.ts';
import { withAddress } from './servers/database.ts';
import type { Endpoint } from './system.ts';

const STREAMS = ['upstream', 'downstream'] as const;
export type Stream = (typeof STREAMS)[number];

/** The proxy of one link, and what is applied to it. */
export interface Link {
  readonly proxy: string;
  readonly port: number;
  /** The toxic a drop partition adds closes the connection after this long (0: never). */
  readonly silenceClosesAfterMs: number;
}

interface Toxic {
  readonly type: string;
  readonly stream: Stream;
  readonly toxicity?: number;
  readonly attributes: Record<string, number>;
}

export class ClientLinks {
  private readonly links = new Map<string, Link>();
  private readonly cutNow = new Set<string>();

  /** `runIndex` numbers the proxies, so that runs sharing the cluster never share one. */
  constructor(
    private readonly cluster: Cluster,
    private readonly runIndex: number,
  ) {}

  /** Put a proxy on the link from `client` to `node`; returns the endpoint the client dials instead of `upstream`. */
  async add(client: string, node: string, upstream: Endpoint, silenceClosesAfterMs: number): Promise<Endpoint> {
    const name = `r${this.runIndex}-${client}-${node}`;
    const port = await this.cluster.toxiproxy.proxy(
      name,
      `${upstream.host}:${upstream.port}`,
      this.cluster.proxyListenHost,
    );
    this.links.set(key(client, node), { proxy: name, port, silenceClosesAfterMs });
    const url = upstream.url === undefined ? undefined : withAddress(upstream.url, this.cluster.clientHost, port);
    return {
      host: this.cluster.clientHost,
      port,
      upstream: `${upstream.host}:${upstream.port}`,
      ...(url === undefined ? {} : { url }),
    };
  }

  get(client: string, node: string): Link | undefined {
    return this.links.get(key(client, node));
  }

  async cut(link: Link, mode: PartitionMode): Promise<void> {
    // A partition cuts both directions of a connection; the second direction finds it cut already.
    if (this.cutNow.has(link.proxy)) return;
    this.cutNow.add(link.proxy);
    // A database session lives on its connection: held long enough, its server's keepalive gives
    // up exactly as under a drop, and what the hold delivers later finds the session gone. So on
    // a database link a hold is the drop toxic that closes after the lease time.
    const holds = mode === 'hold' && link.silenceClosesAfterMs === 0;
    // Both directions at once: on a busy machine every call to Toxiproxy's API takes a while, and
    // a cut that lands late lets through what it was meant to stop.
    // No cut toxic is on the link (cutNow says so), so it is added without removing one first: one
    // call per stream instead of two.
    await Promise.all(
      STREAMS.map((stream) =>
        this.cluster.toxiproxy.addToxic(link.proxy, {
          name: `cut-${stream}`,
          ...(holds
            ? { type: 'latency', stream, attributes: { latency: 3_600_000, jitter: 0 } }
            : { type: 'timeout', stream, attributes: { timeout: link.silenceClosesAfterMs } }),
        }),
      ),
    );
  }

  async heal(link: Link): Promise<void> {
    if (!this.cutNow.delete(link.proxy)) return;
    await Promise.all(
      STREAMS.map((stream) => this.cluster.toxiproxy.removeToxic(link.proxy, `cut-${stream}`).catch(() => {})),
    );
  }

  delay(link: Link, stream: Stream, extraMs: number): Promise<void> {
    return this.setToxic(
      link,
      `delay-${stream}`,
      extraMs === 0 ? null : { type: 'latency', stream, attributes: { latency: Math.round(extraMs), jitter: 0 } },
    );
  }

  /**
   * TCP does not lose bytes; a lost segment is a retransmission later: a latency of 200 ms
   * (Linux's minimum retransmission timeout) on the share of connections the probability says.
   */
  loss(link: Link, stream: Stream, probability: number): Promise<void> {
    return this.setToxic(
      link,
      `loss-${stream}`,
      probability === 0
        ? null
        : { type: 'latency', stream, toxicity: probability, attributes: { latency: 200, jitter: 0 } },
    );
  }

  /** Clear every toxic of every link, each through `act`, so that it runs after the cuts already asked for. */
  clearAll(act: (what: string, action: () => Promise<void>) => void): void {
    for (const link of this.links.values())
      act(`heal ${link.proxy}`, () => this.cluster.toxiproxy.clearToxics(link.proxy));
    this.cutNow.clear();
  }

  /** Delete every proxy of the run. */
  async remove(): Promise<void> {
    for (const link of this.links.values()) await this.cluster.toxiproxy.deleteProxy(link.proxy).catch(() => {});
  }

  private async setToxic(link: Link, name: string, toxic: Toxic | null): Promise<void> {
    await this.cluster.toxiproxy.removeToxic(link.proxy, name).catch(() => {});
    if (toxic !== null) await this.cluster.toxiproxy.addToxic(link.proxy, { name, ...toxic });
  }
}

function key(client: string, node: string): string {
  return `${client}|${node}`;
}
