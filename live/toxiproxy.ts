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

export class Toxiproxy {
  private constructor(
    readonly api: string,
    readonly process: Started,
  ) {}

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

  /** A proxy named `name` from a fresh loopback port to `upstream`; returns the port to connect to. */
  async proxy(name: string, upstream: string): Promise<number> {
    const port = await freePort();
    await this.call('POST', '/proxies', { name, listen: `127.0.0.1:${port}`, upstream, enabled: true });
    return port;
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
    await this.process.stop();
  }

  private async call(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw new EnvironmentError(`toxiproxy: ${method} ${path} answered ${response.status}: ${await response.text()}`);
  }
}
