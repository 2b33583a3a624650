/**
 * One live run: a scenario, against one system (or a third-party subject on its servers), fenced
 * or not, on a live cluster. Clients are child processes, each with one Toxiproxy proxy per
 * server and one to the register; the scenario's faults are SIGSTOP/SIGCONT, SIGKILL and restarts,
 * toxics and disabled proxies. The workload, the history and the checkers are the simulator's.
 *
 * How each fault is made live:
 *   partition drop   a `timeout` toxic on both streams of every proxy on a cut link: nothing
 *                    passes. For the databases, whose server notices a dead client only through
 *                    its connection, the toxic closes the connection after the lease time (ttlMs),
 *                    which is what the server's keepalive would do to a silent peer; Toxiproxy's
 *                    own socket would otherwise keep answering it.
 *   partition hold   a `latency` toxic longer than the run, removed at heal: held bytes then flow.
 *                    On a database link, the drop toxic above: a session cannot outlive a hold
 *                    longer than its keepalive, and what the hold delivers later finds it gone.
 *   delay            a `latency` toxic on the link's direction.
 *   loss             TCP does not lose bytes; a lost segment is a retransmission later. A `latency`
 *                    toxic of 200 ms (Linux's minimum retransmission timeout) with toxicity set to
 *                    the probability: that share of connections sees the delay.
 *   pause            SIGSTOP, SIGCONT at heal (clients, and servers under the local provider).
 *   crash            SIGKILL; restart starts the server again with its data (persist) or without.
 *   clock jump       a client's clock is stepped (recipes read time only through Clock); a server's
 *                    is applied as its effect, by the cluster (see Cluster.jumpClock).
 *   clock drift      a client's clock runs fast or slow; a server's cannot be made to (skipped).
 */
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import type { SystemConfig } from '../backends/system.ts';
import { planFaults, whyNot, type Cast, type FaultTarget } from '../runner/faults.ts';
import { History, holderOf, isGrant, NEMESIS } from '../runner/history.ts';
import { Register } from '../runner/register.ts';
import { expectationOf, judge, round, unjudged, type RunOutput, type RunResult } from '../runner/run.ts';
import { graceMs } from '../runner/sim-harness.ts';
import type { Fault, Scenario } from '../scenarios/schema.ts';
import { selectorsOf } from '../scenarios/schema.ts';
import type { PartitionMode } from '../sim/network.ts';
import { Rng } from '../sim/rng.ts';
import { machineMonotonicMs } from './clock.ts';
import type { Cluster } from './cluster.ts';
import type { ClientSpec, FromClient, ToClient } from './client-protocol.ts';
import { EnvironmentError, forkDying, keepLog, sleep, track } from './process.ts';
import { redactSecrets } from '../runner/redact.ts';
import { withAddress } from './servers/database.ts';
import { serveRegister } from './register.ts';
import { liveSubject } from './systems/index.ts';
import type { Endpoint } from './system.ts';

const CLIENT_MAIN = fileURLToPath(new URL('./client-main.ts', import.meta.url));
// Resolved here, not by the client: `--import tsx` is looked up from the working directory, which need not be this project.
const TSX_LOADER = import.meta.resolve('tsx');
const REGISTER = 'register';
const REGISTER_TIMEOUT_MS = 1000;
const STREAMS = ['upstream', 'downstream'] as const;
/** How long a client process may take to start and connect. */
const CLIENT_START_MS = 20_000;

export interface LiveRunSpec {
  readonly scenario: Scenario;
  readonly system: SystemId;
  /** A third-party subject instead of the system's own recipe. */
  readonly subject: string | null;
  readonly fencing: boolean;
  readonly seed: number;
  readonly cluster: Cluster;
  /** Numbers proxies and lock names, so that runs never share state. */
  readonly runIndex: number;
  /** Where client logs go. */
  readonly logDir: string;
}

export interface LiveRunResult extends RunResult {
  readonly subject: string | null;
  readonly provider: string;
  /** Real milliseconds from the run's start to the end of its grace period. */
  readonly durationMs: number;
}

export interface LiveRunOutput extends Omit<RunOutput, 'result'> {
  readonly result: LiveRunResult;
}

/** Why this run cannot be performed by this cluster, or null. */
export function whyNotLive(faults: readonly Fault[], system: SystemId, subject: string | null, fencing: boolean, cluster: Cluster): string | null {
  if (subject !== null && fencing && !liveSubject(subject).tokens) return `${subject} offers no fencing token`;
  const servers = cluster.servers(system);
  const hitsServers = (fault: Fault) => hitsServersOf(fault, servers.length);
  for (const fault of faults) {
    if ((fault.pause !== undefined || fault.crash !== undefined) && hitsServers(fault) && servers.some((s) => s.control === null)) {
      return `the ${cluster.provider} provider does not control its servers' processes, so it cannot ${fault.pause !== undefined ? 'pause' : 'crash'} one`;
    }
    if (fault.clock !== undefined && fault.driftPpm !== undefined && hitsServers(fault)) {
      return 'a real server clock cannot be made to drift (only a client clock can, or a server clock can jump)';
    }
    if (fault.clock !== undefined && hitsServers(fault) && cluster.provider !== 'local' && (system === 'redis' || system === 'redlock')) {
      return `the ${cluster.provider} provider does not apply a clock jump to Redis data it does not own`;
    }
    if (cluster.provider !== 'local' && servers.length > 1 && selectorsOf(fault).includes('leader')) {
      return `the ${cluster.provider} provider does not ask the cluster which server leads`;
    }
    if (fault.partition !== undefined || fault.delay !== undefined) {
      const reason = cluster.peersUnavailable(system);
      if (reason !== null && touchesPeerLinks(fault, servers.length)) return reason;
      const peers = cluster.peers(system);
      if (fault.delay !== undefined && peers !== null && peers.delay === undefined && touchesPeerLinks(fault, servers.length)) {
        return `links between ${system} servers can be cut here (${peers.mechanism}) but not slowed down`;
      }
    }
  }
  return null;
}

/**
 * Whether runs of this scenario can share the cluster with other runs at the same time: its faults
 * touch only its own clients and their own proxies (a pause of the holder, a partition between the
 * holder and the servers), never a server process, a server's clock or a link between servers.
 */
export function touchesOnlyClients(faults: readonly Fault[], servers: number): boolean {
  return faults.every((fault) => {
    const hitsServers = hitsServersOf(fault, servers);
    if ((fault.pause !== undefined || fault.crash !== undefined || fault.clock !== undefined) && hitsServers) return false;
    if ((fault.partition !== undefined || fault.delay !== undefined || fault.loss !== undefined) && (fault.loss !== undefined ? hitsServers && servers > 1 : touchesPeerLinks(fault, servers))) return false;
    return true;
  });
}

/** Whether a fault names a server of a system of `servers` servers, directly or by a server selector. */
function hitsServersOf(fault: Fault, servers: number): boolean {
  return selectorsOf(fault).some((s) => ['servers', 'leader', 'majority', 'minority', 'one'].includes(s) || (/^server-(\d+)$/.test(s) && Number(s.slice(7)) <= servers));
}

/** Whether a fault can cut or slow a link between two servers. */
function touchesPeerLinks(fault: Fault, servers: number): boolean {
  if (servers < 2) return false;
  if (fault.delay !== undefined) return true;
  const partition = fault.partition!;
  if (partition.halves === true || partition.bridge === true) return true;
  if (partition.isolate !== undefined) return !['holder', 'clients'].includes(partition.isolate) && !/^c\d+$/.test(partition.isolate);
  const groups = partition.groups ?? [];
  const withServers = groups.filter((g) => g.some((s) => !['holder', 'clients'].includes(s) && !/^c\d+$/.test(s)));
  return withServers.length >= 2;
}

/** The proxy of one client-server (or client-register) link, and what is applied to it. */
interface Link {
  readonly proxy: string;
  readonly port: number;
  /** The toxic a drop partition adds closes the connection after this long (0: never). */
  readonly silenceClosesAfterMs: number;
}

interface Toxic {
  readonly type: string;
  readonly stream: 'upstream' | 'downstream';
  readonly toxicity?: number;
  readonly attributes: Record<string, number>;
}

interface ClientProcess {
  child: ChildProcess | null;
  ready: Promise<void>;
  done: Promise<void>;
  paused: boolean;
  crashed: boolean;
}

export async function runLive(spec: LiveRunSpec): Promise<LiveRunOutput> {
  const { scenario, system, subject, fencing, seed, cluster } = spec;
  const module = systemModule(system);
  // A scenario's expectations are about lockstep's own recipes; a third-party library is measured,
  // not held to them (its verdict next to the recipe's is the finding).
  const expected = subject === null ? expectationOf(scenario, system, fencing) : null;
  const base = {
    scenario: scenario.name,
    system,
    fencing,
    seed,
    mode: 'live' as const,
    expected,
    fencingSound: module.fencing === 'sound',
  };
  const extra = { subject, provider: cluster.provider, durationMs: 0 };
  const serverList = cluster.servers(system);
  const skipped =
    whyNot(scenario.faults, { servers: serverList.length, hasLeader: module.leader !== undefined || serverList.length === 1 }) ??
    whyNotLive(scenario.faults, system, subject, fencing, cluster);
  if (skipped !== null) {
    const output = unjudged({ ...base, verdict: 'skipped', skipped, notes: [] });
    return { ...output, result: { ...output.result, ...extra } };
  }

  const persist = scenario.faults.some((f) => f.crash !== undefined && f.persist === true);
  await cluster.prepare(system, { persist });
  const config: SystemConfig = {
    ttlMs: scenario.lock.ttlMs,
    fencing,
    acquireTimeoutMs: 4 * scenario.lock.ttlMs,
    name: `lockstep-${spec.runIndex}`,
  };
  const servers = serverList.map((_, i) => `server-${i + 1}`);
  const clients = Array.from({ length: scenario.clients }, (_, i) => `c${i + 1}`);
  const register = new Register(fencing);
  let epochMs = machineMonotonicMs();
  const now = () => machineMonotonicMs() - epochMs;
  const history = new History(now);
  const served = await serveRegister(register, now);
  const notes: string[] = [];
  const toxiproxy = cluster.toxiproxy;
  const proxies: string[] = [];
  const processes = new Map<string, ClientProcess>();
  const timers = new Set<NodeJS.Timeout>();
  let failure: Error | null = null;
  const isDatabase = system === 'postgres' || system === 'mysql';

  // One proxy per client and server, and per client to the register.
  const links = new Map<string, Link>();
  const linkKey = (client: string, node: string) => `${client}|${node}`;
  const addLink = async (client: string, node: string, upstream: Endpoint, silenceClosesAfterMs: number): Promise<Endpoint> => {
    const name = `r${spec.runIndex}-${client}-${node}`;
    const port = await toxiproxy.proxy(name, `${upstream.host}:${upstream.port}`, cluster.proxyListenHost);
    proxies.push(name);
    links.set(linkKey(client, node), { proxy: name, port, silenceClosesAfterMs });
    const url = upstream.url === undefined ? undefined : withAddress(upstream.url, cluster.clientHost, port);
    return { host: cluster.clientHost, port, ...(url === undefined ? {} : { url }) };
  };
  const clientSpecs = new Map<string, ClientSpec>();
  try {
    for (const client of clients) {
      const endpoints: Endpoint[] = [];
      for (const [i, server] of serverList.entries()) {
        endpoints.push(await addLink(client, servers[i]!, { ...server.upstream, ...(server.url === undefined ? {} : { url: server.url }) }, isDatabase ? config.ttlMs : 0));
      }
      const registerEndpoint = await addLink(client, REGISTER, { host: '127.0.0.1', port: served.port }, 0);
      clientSpecs.set(client, {
        id: client,
        system,
        subject,
        workload: scenario.workload,
        config,
        servers: endpoints,
        register: registerEndpoint,
        registerTimeoutMs: REGISTER_TIMEOUT_MS,
        params: { holdMs: scenario.lock.holdMs, thinkMs: scenario.lock.thinkMs, fencing },
      });
    }

    // Every toxiproxy and process action runs in order on one chain; a failure voids the run.
    let chain: Promise<void> = Promise.resolve();
    const act = (what: string, action: () => Promise<void>) => {
      chain = chain.then(action).catch((error: unknown) => {
        failure ??= new EnvironmentError(`live harness: ${what} failed: ${(error as Error).message}`);
      });
    };
    const serverIndex = (node: string) => servers.indexOf(node);
    const control = (node: string) => serverList[serverIndex(node)]?.control ?? null;

    const startClient = (client: string): ClientProcess => {
      const logFile = join(spec.logDir, `${scenario.name}.${subject ?? system}.${fencing ? 'on' : 'off'}.${client}.log`);
      const log = openSync(logFile, 'a');
      const child = forkDying(CLIENT_MAIN, { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', log, log, 'ipc'] });
      closeSync(log);
      track(child);
      let onReady: () => void = () => {};
      let onFailed: (error: Error) => void = () => {};
      const ready = new Promise<void>((resolve, reject) => {
        onReady = resolve;
        onFailed = reject;
      });
      const done = new Promise<void>((resolve) => {
        child.on('message', (message: FromClient) => {
          if (message.type === 'ready') onReady();
          else if (message.type === 'op') history.append(message.op);
          else if (message.type === 'failed') {
            // A driver's error may quote the database URL it was given, password and all.
            const error = redactSecrets(message.error);
            notes.push(`${client} failed: ${error}`);
            onFailed(new EnvironmentError(`${client} could not start: ${error}`));
          } else if (message.type === 'done') {
            for (const f of message.failures) notes.push(`${client}: ${f}`);
          }
        });
        child.once('exit', (code, signal) => {
          onFailed(new EnvironmentError(`${client} exited (${signal ?? `code ${code}`}) before it was ready; log: ${keepLog(logFile)}`));
          resolve();
        });
      });
      const handle: ClientProcess = { child, ready, done, paused: false, crashed: false };
      send(child, { type: 'start', spec: clientSpecs.get(client)! });
      return handle;
    };

    /** How long after its grant the latest grant-triggered fault fired. */
    let lateTriggerMs = 0;
    const crashedServers = new Set<string>();
    const pausedServers = new Set<string>();
    const target: FaultTarget = {
      get nowMs() {
        return now();
      },
      pause: (node) => {
        const client = processes.get(node);
        if (client !== undefined) {
          client.paused = true;
          client.child?.kill('SIGSTOP');
        } else {
          pausedServers.add(node);
          act(`pause ${node}`, async () => control(node)?.pause());
        }
      },
      resume: (node) => {
        const client = processes.get(node);
        if (client !== undefined) {
          client.paused = false;
          client.child?.kill('SIGCONT');
        } else {
          pausedServers.delete(node);
          act(`resume ${node}`, async () => control(node)?.resume());
        }
      },
      crash: (node) => {
        const client = processes.get(node);
        if (client !== undefined) {
          client.crashed = true;
          client.paused = false;
          client.child?.kill('SIGKILL');
          history.record(node, 'info', 'crash');
        } else {
          crashedServers.add(node);
          pausedServers.delete(node);
          act(`crash ${node}`, async () => control(node)?.kill());
        }
      },
      restart: (node, persistNow) => {
        const client = processes.get(node);
        if (client !== undefined) {
          const restarted = startClient(node);
          processes.set(node, restarted);
          void restarted.ready.then(() => restarted.child !== null && send(restarted.child, { type: 'go', epochMs }), () => {});
        } else {
          crashedServers.delete(node);
          act(`restart ${node}`, async () => control(node)?.restart(persistNow));
        }
      },
      // What the faults have done so far, known at once: the actions themselves run later, in order.
      isCrashed: (node) => processes.get(node)?.crashed ?? crashedServers.has(node),
      isPaused: (node) => processes.get(node)?.paused ?? pausedServers.has(node),
      partition: (from, to, mode) => linkAction(from, to, (link) => cutLink(link, mode), (a, b) => cluster.peers(system)?.cut(a, b, mode)),
      heal: (from, to) => linkAction(from, to, healLink, (a, b) => cluster.peers(system)?.heal(a, b)),
      delay: (from, to, extraMs) =>
        linkAction(
          from,
          to,
          (link, stream) => setToxic(link, `delay-${stream}`, extraMs === 0 ? null : { type: 'latency', stream, attributes: { latency: Math.round(extraMs), jitter: 0 } }),
          (a, b) => cluster.peers(system)?.delay?.(a, b, extraMs),
        ),
      loss: (from, to, probability) =>
        linkAction(from, to, (link, stream) =>
          setToxic(link, `loss-${stream}`, probability === 0 ? null : { type: 'latency', stream, toxicity: probability, attributes: { latency: 200, jitter: 0 } }),
        ),
      jumpClock: (node, deltaMs) => {
        const client = processes.get(node);
        if (client !== undefined) client.child !== null && send(client.child, { type: 'clock', jumpMs: deltaMs });
        else
          act(`clock jump on ${node}`, async () => {
            notes.push(`${node}: ${await cluster.jumpClock(system, serverIndex(node) + 1, deltaMs)}`);
          });
      },
      setDrift: (node, driftPpm) => {
        const client = processes.get(node);
        if (client?.child != null) send(client.child, { type: 'clock', driftPpm });
      },
      at: (atMs, fire) => {
        const wait = atMs - now();
        if (wait <= 0) return fire();
        const timer = setTimeout(() => {
          timers.delete(timer);
          fire();
        }, wait);
        timers.add(timer);
      },
    };

    // A link between a client (or the register) and a server is that client's proxy; a link
    // between two servers is the cluster's business; links between clients carry nothing.
    const cutNow = new Set<string>();
    function linkAction(from: string, to: string, onProxy: (link: Link, stream: 'upstream' | 'downstream') => Promise<void>, onPeers?: (a: number, b: number) => Promise<void> | undefined): void {
      const fromServer = serverIndex(from);
      const toServer = serverIndex(to);
      if (fromServer >= 0 && toServer >= 0) {
        const mechanism = cluster.peers(system)?.mechanism;
        if (mechanism !== undefined && !notes.includes(`links between servers: ${mechanism}`)) notes.push(`links between servers: ${mechanism}`);
        if (onPeers !== undefined) act(`link ${from}->${to}`, async () => void (await onPeers(fromServer + 1, toServer + 1)));
        return;
      }
      const clientSide = clients.includes(from) ? from : clients.includes(to) ? to : null;
      if (clientSide === null) return;
      const other = clientSide === from ? to : from;
      const link = links.get(linkKey(clientSide, other));
      if (link === undefined) return;
      // client -> server bytes are the proxy's upstream stream; server -> client, downstream.
      act(`link ${from}->${to}`, () => onProxy(link, clientSide === from ? 'upstream' : 'downstream'));
    }
    async function setToxic(link: Link, name: string, toxic: Toxic | null): Promise<void> {
      await toxiproxy.removeToxic(link.proxy, name).catch(() => {});
      if (toxic !== null) await toxiproxy.addToxic(link.proxy, { name, ...toxic });
    }
    async function cutLink(link: Link, mode: PartitionMode): Promise<void> {
      // A partition cuts both directions of a connection; the second direction finds it cut already.
      if (cutNow.has(link.proxy)) return;
      cutNow.add(link.proxy);
      // A database session lives on its connection: held long enough, its server's keepalive gives
      // up exactly as under a drop, and what the hold delivers later finds the session gone. So on
      // a database link a hold is the drop toxic that closes after the lease time.
      const holds = mode === 'hold' && link.silenceClosesAfterMs === 0;
      // Both directions at once: on a busy machine every call to Toxiproxy's API takes a while, and
      // a cut that lands late lets through what it was meant to stop.
      await Promise.all(
        STREAMS.map((stream) =>
          setToxic(
            link,
            `cut-${stream}`,
            holds ? { type: 'latency', stream, attributes: { latency: 3_600_000, jitter: 0 } } : { type: 'timeout', stream, attributes: { timeout: link.silenceClosesAfterMs } },
          ),
        ),
      );
    }
    async function healLink(link: Link): Promise<void> {
      if (!cutNow.delete(link.proxy)) return;
      await Promise.all(STREAMS.map((stream) => toxiproxy.removeToxic(link.proxy, `cut-${stream}`).catch(() => {})));
    }

    // Start the clients; they connect, then wait for the start of true time.
    for (const client of clients) processes.set(client, startClient(client));
    await withTimeout(Promise.all([...processes.values()].map((p) => p.ready)), CLIENT_START_MS, 'the client processes did not connect');

    // Leader selector: polled, since a live cluster answers it only asynchronously.
    let leader: number | null | undefined = undefined;
    const pollLeader = async () => {
      leader = await cluster.leader(system).catch(() => null);
    };
    await pollLeader();
    const leaderTimer = setInterval(() => void pollLeader(), 200);
    timers.add(leaderTimer as unknown as NodeJS.Timeout);

    epochMs = machineMonotonicMs();
    const rng = Rng.root(seed).fork('faults');
    const cast: Cast = {
      servers,
      clients,
      nodes: [...servers, REGISTER, ...clients],
      holder: () => holderOf(history),
      leader: () => (leader === undefined ? (servers.length === 1 ? servers[0]! : undefined) : leader === null ? null : servers[leader - 1]!),
      pick: (items) => rng.pick(items),
      afterGrant: (nth, who, fire) => {
        let seen = 0;
        history.observe((op) => {
          if (!(isGrant(op) && who(op.process) && ++seen === nth)) return;
          // The grant reached the harness over IPC; how late it is here is how late the fault is.
          lateTriggerMs = Math.max(lateTriggerMs, now() - op.timeMs);
          fire();
        });
      },
    };
    planFaults(scenario.faults, target, cast, notes, (phase, index, what) =>
      history.record(NEMESIS, 'info', phase === 'start' ? 'fault-start' : 'fault-end', { value: index, detail: what }),
    );
    await chain;
    for (const p of processes.values()) if (p.child !== null) send(p.child, { type: 'go', epochMs });
    await sleep(scenario.durationMs);

    // The end: every fault healed, crashed servers back (from disk), clients finish their round.
    for (const timer of timers) clearTimeout(timer);
    clearInterval(leaderTimer);
    timers.clear();
    for (const p of processes.values()) {
      if (p.child === null || p.crashed) continue;
      if (p.paused) p.child.kill('SIGCONT');
      p.paused = false;
      send(p.child, { type: 'stop' });
    }
    for (const link of links.values()) act(`heal ${link.proxy}`, () => toxiproxy.clearToxics(link.proxy));
    cutNow.clear();
    for (const [i, server] of serverList.entries()) {
      const c = server.control;
      if (c === null) continue;
      act(`heal ${servers[i]}`, async () => {
        if (c.isPaused) c.resume();
        if (!c.isRunning) await c.restart(true);
      });
    }
    act('heal peer links', async () => {
      const peers = cluster.peers(system);
      if (peers === null) return;
      for (let a = 1; a <= servers.length; a++) for (let b = 1; b <= servers.length; b++) if (a !== b) await peers.heal(a, b);
    });
    await chain;
    const grace = graceMs(scenario.lock.ttlMs, scenario.lock.holdMs);
    const finished = await withTimeout(
      Promise.all([...processes.values()].filter((p) => !p.crashed).map((p) => p.done)).then(() => true),
      grace,
      '',
    ).catch(() => false);
    if (!finished) notes.push(`some clients had not finished their round ${grace}ms after the end; they were killed`);
    const death = cluster.deaths();
    if (death !== null) throw new EnvironmentError(death);
    if (failure !== null) throw failure;

    history.sortByTime();
    const ops = history.ops;
    const judged = judge(scenario, ops, register);
    const { metrics } = judged;
    // A live run in which no client ever got the lock tested nothing: its client could not work
    // against the servers. That is not "safe"; it has no verdict.
    // A fault that fires "just after a grant" must land before the client has moved on (within
    // half its hold): otherwise the run tested something else than the scenario says, and has no
    // verdict. That happens when the machine is too busy to forward the grant in time.
    const lateLimitMs = Math.max(10, Math.min(50, scenario.lock.holdMs / 2));
    const late = lateTriggerMs > lateLimitMs;
    const verdict = metrics.acquisitions === 0 || late ? 'unknown' : judged.verdict;
    if (metrics.acquisitions === 0) notes.push(`no client ever ${scenario.workload === 'election' ? 'won an election' : 'acquired the lock'}: nothing was tested (see the client errors in the history)`);
    if (late) notes.push(`a fault triggered by a grant fired ${round(lateTriggerMs)} ms after it (limit ${lateLimitMs} ms): the machine was too busy for this run to test what the scenario says`);
    const durationMs = round(now());
    const result: LiveRunResult = {
      ...base,
      ...extra,
      durationMs,
      verdict,
      skipped: null,
      metrics,
      expectationMet: expected === null ? null : expected === verdict,
      simulatedMs: durationMs,
      events: ops.length,
      traceHash: null,
      notes,
    };
    return { result, history: ops, writes: register.writes, sim: null };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    for (const p of processes.values()) {
      p.child?.kill('SIGKILL');
      p.child?.kill('SIGCONT');
    }
    await Promise.all([...processes.values()].map((p) => p.done));
    await served.close();
    for (const proxy of proxies) await toxiproxy.deleteProxy(proxy).catch(() => {});
  }

}

function send(child: ChildProcess, message: ToClient): void {
  if (child.connected) child.send(message);
}


function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EnvironmentError(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
