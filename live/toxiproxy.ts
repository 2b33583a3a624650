/**
 * Toxiproxy, the fault layer of the live harness: every client connection goes through a proxy of
 * its own, and a fault is a disabled proxy or a toxic on it. The HTTP API is called through
 * toxiproxy-node-client; what is ours is starting the server from tools/toxiproxy-server
 * (scripts/install-servers.sh builds it), the ports proxies listen on, errors as EnvironmentError,
 * and listing a proxy's toxics, which the client has no call for.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Toxiproxy as Client, type Proxy, type Toxic, type ToxicType } from 'toxiproxy-node-client';
import { EnvironmentError, freePort, startProcess, type Started } from './process.ts';

export const TOXIPROXY_BINARY = fileURLToPath(new URL('../tools/toxiproxy-server', import.meta.url));

/** Ports for new proxies: a free loopback port each, or the next of a range a container publishes. */
export type PortSource = () => Promise<number>;

/** Hands out the ports of [from, to] in turn. */
export function portRange(from: number, to: number): PortSource {
  let next = from;
  return () => {
    const port = next;
    next = next >= to ? from : next + 1;
    return Promise.resolve(port);
  };
}

export interface ToxicSpec {
  readonly name: string;
  /** A Toxiproxy toxic type (latency, timeout, ...); the server refuses one it does not know. */
  readonly type: string;
  /** Defaults to downstream (server to client), as in Toxiproxy. */
  readonly stream?: 'upstream' | 'downstream';
  /** The share of connections affected; defaults to 1. */
  readonly toxicity?: number;
  readonly attributes: Record<string, number>;
}

// The client puts names into URLs as they are; the harness's names need no escaping, and a name
// that would is refused rather than sent to the wrong path.
const NAME = /^[A-Za-z0-9._-]{1,200}$/;

/** `name`, unless it would need escaping in a URL (thrown inside a `call`, which names the request). */
function checkedName(name: string): string {
  if (!NAME.test(name)) throw new Error(`'${name}' is not a name the harness makes (letters, digits, . _ -)`);
  return name;
}

/** Run one API call, turning the client's error (or a refused connection) into an EnvironmentError saying what was asked. */
async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw new EnvironmentError(`toxiproxy: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export class Toxiproxy {
  private readonly client: Client;
  /** The proxies this harness made, as the client last returned them: updating one needs its listen and upstream. */
  private readonly proxies = new Map<string, Proxy>();
  /** The toxics this harness added, by proxy and toxic name, so that removing one is a single request. */
  private readonly toxics = new Map<string, Toxic<unknown>>();

  private constructor(
    readonly api: string,
    /** The server process when the harness started it; null for a Toxiproxy that runs elsewhere. */
    readonly process: Started | null,
    private readonly ports: PortSource = freePort,
  ) {
    this.client = new Client(api);
  }

  /** A Toxiproxy that already runs, at `api`; it must answer /version. */
  static async connect(api: string, ports?: PortSource): Promise<Toxiproxy> {
    const toxiproxy = new Toxiproxy(api, null, ports);
    await toxiproxy.client.getVersion().catch(() => {
      throw new EnvironmentError(`toxiproxy: no answer from its API at ${api}/version`);
    });
    return toxiproxy;
  }

  static async start(logDir: string): Promise<Toxiproxy> {
    if (!existsSync(TOXIPROXY_BINARY))
      throw new EnvironmentError(`toxiproxy: ${TOXIPROXY_BINARY} is missing; run scripts/install-servers.sh`);
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    const client = new Client(api);
    const started = await startProcess('toxiproxy', TOXIPROXY_BINARY, ['-host', '127.0.0.1', '-port', String(port)], {
      logFile: join(logDir, 'toxiproxy.log'),
      ready: async () => (await client.getVersion()).length > 0,
      timeoutMs: 10_000,
    });
    return new Toxiproxy(api, started);
  }

  /** A proxy named `name` from a fresh port on `listenHost` to `upstream`; returns the port to connect to. */
  async proxy(name: string, upstream: string, listenHost = '127.0.0.1'): Promise<number> {
    const port = await this.ports();
    const proxy = await call(`creating proxy ${name}`, () =>
      this.client.createProxy({ name: checkedName(name), listen: `${listenHost}:${port}`, upstream, enabled: true }),
    );
    this.proxies.set(name, proxy);
    return port;
  }

  async deleteProxy(name: string): Promise<void> {
    const proxy = await this.proxyNamed(name);
    await call(`deleting proxy ${name}`, () => proxy.remove());
    this.proxies.delete(name);
    for (const key of this.toxics.keys()) if (key.startsWith(`${name}/`)) this.toxics.delete(key);
  }

  /** Remove every toxic of a proxy and enable it again. */
  async clearToxics(name: string): Promise<void> {
    const proxy = await this.proxyNamed(name);
    // toxiproxy-node-client reads a proxy without its toxics, so they are listed through its HTTP client.
    const { data } = await call(`listing the toxics of ${name}`, () => proxy.api.get(`${proxy.getPath()}/toxics`));
    for (const toxic of data as { name: string }[]) await this.removeToxic(name, toxic.name);
    await this.setEnabled(name, true);
  }

  /** Cut (false) or restore (true) every connection through the proxy: a drop partition. */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    const proxy = await this.proxyNamed(name);
    this.proxies.set(
      name,
      await call(`${enabled ? 'enabling' : 'disabling'} proxy ${name}`, () =>
        proxy.update({ enabled, listen: proxy.listen, upstream: proxy.upstream }),
      ),
    );
  }

  async addToxic(name: string, toxic: ToxicSpec): Promise<void> {
    const proxy = await this.proxyNamed(name);
    const added = await call(`adding toxic ${toxic.name} to ${name}`, () =>
      proxy.addToxic({
        stream: 'downstream',
        toxicity: 1,
        ...toxic,
        name: checkedName(toxic.name),
        type: toxic.type as ToxicType,
      }),
    );
    this.toxics.set(`${name}/${toxic.name}`, added);
  }

  async removeToxic(name: string, toxic: string): Promise<void> {
    const key = `${name}/${toxic}`;
    const proxy = await this.proxyNamed(name);
    const known =
      this.toxics.get(key) ??
      (await call(`reading toxic ${toxic} of ${name}`, () => proxy.getToxic(checkedName(toxic))));
    await call(`removing toxic ${toxic} from ${name}`, () => known.remove());
    this.toxics.delete(key);
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }

  /** The proxy as last seen, or read from the server when another process made it. */
  private async proxyNamed(name: string): Promise<Proxy> {
    return this.proxies.get(name) ?? (await call(`reading proxy ${name}`, () => this.client.get(checkedName(name))));
  }
}
