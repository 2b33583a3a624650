/**
 * Toxiproxy, the fault layer of the live harness: every client connection goes through a proxy of
 * its own, and a fault is a disabled proxy or a toxic on it. This is its HTTP API, and its server
 * started from tools/toxiproxy-server (scripts/install-servers.sh builds it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, freePort, startProcess, type Started } from './process.ts';

export const TOXIPROXY_BINARY = fileURLToPath(new URL('../tools/toxiproxy-server', import.meta.url));

/** Ports for new proxies: a free loopback port each, or the next of a range a container publishes. */
export type PortSource = () => Promise<number>;

/** Hands out the ports of [from, to] in turn. */
export function portRange(from: number, to: number): PortSource {
  let next = from;
  return async () => {
    const port = next;
    next = next >= to ? from : next + 1;
    return port;
  };
}

export class Toxiproxy {
  private constructor(
    readonly api: string,
    /** The server process when the harness started it; null for a Toxiproxy that runs elsewhere. */
    readonly process: Started | null,
    private readonly ports: PortSource = freePort,
  ) {}

  /** A Toxiproxy that already runs, at `api`; it must answer /version. */
  static async connect(api: string, ports?: PortSource): Promise<Toxiproxy> {
    const answered = await fetch(`${api}/version`).then(
      (r) => r.ok,
      () => false,
    );
    if (!answered) throw new EnvironmentError(`toxiproxy: no answer from its API at ${api}/version`);
    return new Toxiproxy(api, null, ports);
  }

  static async start(logDir: string): Promise<Toxiproxy> {
    if (!existsSync(TOXIPROXY_BINARY)) throw new EnvironmentError(`toxiproxy: ${TOXIPROXY_BINARY} is missing; run scripts/install-servers.sh`);
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    const started = await startProcess('toxiproxy', TOXIPROXY_BINARY, ['-host', '127.0.0.1', '-port', String(port)], {
      logFile: join(logDir, 'toxiproxy.log'),
      ready: async () => (await fetch(`${api}/version`)).ok,
      timeoutMs: 10_000,
    });
    return new Toxiproxy(api, started);
  }

  /** A proxy named `name` from a fresh port on `listenHost` to `upstream`; returns the port to connect to. */
  async proxy(name: string, upstream: string, listenHost = '127.0.0.1'): Promise<number> {
    const port = await this.ports();
    await this.call('POST', '/proxies', { name, listen: `${listenHost}:${port}`, upstream, enabled: true });
    return port;
  }

  async deleteProxy(name: string): Promise<void> {
    await this.call('DELETE', `/proxies/${encodeURIComponent(name)}`);
  }

  /** Remove every toxic of a proxy and enable it again. */
  async clearToxics(name: string): Promise<void> {
    const response = await fetch(`${this.api}/proxies/${encodeURIComponent(name)}/toxics`);
    if (!response.ok) throw new EnvironmentError(`toxiproxy: GET toxics of ${name} answered ${response.status}`);
    for (const toxic of (await response.json()) as { name: string }[]) await this.removeToxic(name, toxic.name);
    await this.setEnabled(name, true);
  }

  /** Cut (false) or restore (true) every connection through the proxy: a drop partition. */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.call('POST', `/proxies/${encodeURIComponent(name)}`, { enabled });
  }

  async addToxic(proxy: string, toxic: { name: string; type: string; stream?: 'upstream' | 'downstream'; toxicity?: number; attributes: Record<string, number> }): Promise<void> {
    await this.call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, { stream: 'downstream', toxicity: 1, ...toxic });
  }

  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`);
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }

  private async call(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw new EnvironmentError(`toxiproxy: ${method} ${path} answered ${response.status}: ${await response.text()}`);
  }
}
