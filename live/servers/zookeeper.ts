/**
 * A private 3-server ZooKeeper ensemble for the live harness (Debian's ZooKeeper 3.8 on the
 * system JVM): every server on 127.0.0.1, on ports of its own, with its data, myid, config and log
 * in a directory of its own, so that a killed server starts again as the same member.
 *
 * Peer links can be routed through the harness (`peerPort`): server `from` dials server `to` at
 * the port it returns, for quorum and election traffic alike, so one Toxiproxy proxy per directed
 * link can partition the ensemble itself. One kind of link escapes the proxies: when a server
 * dials a peer with a higher id for leader election, the peer hangs up and dials back at the
 * address the caller announces, which is its real port (QuorumCnxManager.handleConnection). A
 * partition must therefore also cut those, with `dropDirectElectionLinks`.
 *
 * With `namespaces: true` each server runs in a network namespace of its own (./netns.ts), on an
 * address of a private bridge instead of 127.0.0.1, for its client port and its quorum and election
 * ports alike. The ensemble's `network` then cuts links between servers; the dial-back escapes
 * nothing, as it goes to the peer's namespace address, which a cut drops like any other packet.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { EnvironmentError, freePort, ManagedServer, settleAll, sleep, wrapped } from '../process.ts';
import { MemberNetwork } from './netns.ts';

export type ZooKeeperMode = 'leader' | 'follower' | 'standalone';

const CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'].join(':');

/**
 * A small heap and the C1 compiler only: the JVM starts in about a second. Leader election backs
 * off to at most a second between rounds (ZooKeeper's default is a minute), so a server cut off
 * and healed rejoins within about a second, not whenever its back-off ends; an election
 * connection to a silent peer gives up after a second, not five. Writes are not fsynced: a killed
 * process loses nothing the kernel holds, and the harness crashes processes, not the machine.
 * Transaction log files are preallocated 1 MB at a time, not 64.
 */
const JVM_FLAGS = [
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Djava.net.preferIPv4Stack=true',
  '-Dzookeeper.admin.enableServer=false',
  '-Dzookeeper.fastleader.maxNotificationInterval=1000',
  '-Dzookeeper.cnxTimeout=1000',
  '-Dzookeeper.forceSync=no',
  '-Dzookeeper.preAllocSize=1024',
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
  '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
];

export interface ZooKeeperEnsembleOptions {
  /**
   * ZooKeeper's tickTime. Sessions may ask for 2 ticks up to a minute; followers give up on a
   * silent leader after 5 ticks (syncLimit), a new leader on followers that do not sync within
   * 10 (initLimit). Default 100 ms: a tenth of a 1 s session timeout, as
   * the simulator's ensemble ticks (backends/zookeeper/server.ts).
   */
  readonly tickTimeMs?: number;
  /**
   * The port server `from` dials to reach server `to` (0-based indexes), given `to`'s real quorum
   * or election port. Default: the real port.
   */
  readonly peerPort?: (from: number, to: number, port: number) => Promise<number>;
  /** How long the whole ensemble may take to answer with a leader. Default 20 s. */
  readonly timeoutMs?: number;
  /**
   * Run each server in a network namespace of its own, so that the ensemble's `network` can cut
   * links between servers. Needs root. Not with `peerPort`: the servers then dial each other directly.
   */
  readonly namespaces?: boolean;
}

interface PeerPorts {
  readonly quorum: number;
  readonly election: number;
}

/**
 * Send a four-letter word to host:port and resolve with the answer, once the server closes or
 * `timeoutMs` passes (process.ts's `ask` dials 127.0.0.1 only).
 */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = createConnection({ host, port }, () => socket.write(word));
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(answer);
    });
    socket.on('data', (data) => (answer += data.toString()));
    socket.once('end', () => resolve(answer));
    socket.once('error', reject);
  });
}

/** One member of the ensemble: `index` 0-based, myid `index + 1`. */
export class ZooKeeperServer extends ManagedServer {
  /**
   * `host` is the address the server listens on (client, quorum and election ports), reachable
   * from here. `wrap` prefixes the command, e.g. to run it in a network namespace (`ip netns exec`
   * execs java in place, so the pid, and SIGSTOP, are java's).
   */
  constructor(
    readonly index: number,
    readonly dir: string,
    readonly clientPort: number,
    readonly electionPort: number,
    configFile: string,
    readonly host = '127.0.0.1',
    wrap: readonly string[] = [],
  ) {
    const command = wrapped(wrap, 'java', [
      ...JVM_FLAGS,
      '-cp',
      CLASSPATH,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      configFile,
    ]);
    super({
      name: `zookeeper-${index + 1}`,
      command: command.command,
      args: command.args,
      logFile: join(dir, `zookeeper-${index + 1}.log`),
      // Up once the client port answers at all; a server without a quorum answers that it is not serving.
      ready: async () => (await fourLetterWord(host, clientPort, 'srvr')).length > 0,
      timeoutMs: 15_000,
    });
  }

  /** What the server says it is (srvr); null while it serves no one (looking for a leader) or does not answer. */
  async mode(): Promise<ZooKeeperMode | null> {
    if (!this.isRunning || this.isPaused) return null;
    try {
      const answer = await fourLetterWord(this.host, this.clientPort, 'srvr');
      const mode = /^Mode: (leader|follower|standalone)$/m.exec(answer)?.[1];
      return (mode as ZooKeeperMode | undefined) ?? null;
    } catch {
      return null;
    }
  }
}

export class ZooKeeperEnsemble {
  constructor(
    readonly servers: readonly ZooKeeperServer[],
    /** The links between servers (indexes into `servers`), when they run in namespaces; null otherwise. */
    readonly network: MemberNetwork | null = null,
  ) {}

  /** The address to reach server `index` at: its namespace address, or 127.0.0.1. */
  host(index: number): string {
    return this.server(index).host;
  }

  /** Server `index` (0-based); an index past the ensemble is a caller's mistake. */
  private server(index: number): ZooKeeperServer {
    const server = this.servers[index];
    if (server === undefined) throw new Error(`zookeeper: no server ${index} in an ensemble of ${this.servers.length}`);
    return server;
  }

  /** The index of the server that says it leads, or null if none does. */
  async leaderIndex(): Promise<number | null> {
    const modes = await Promise.all(this.servers.map((server) => server.mode()));
    const index = modes.indexOf('leader');
    return index < 0 ? null : index;
  }

  /** Wait until one of `among` leads and every other server of `among` follows it; returns the leader's index. */
  async waitForLeader(
    among: readonly number[] = this.servers.map((s) => s.index),
    timeoutMs = 20_000,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const modes = await Promise.all(among.map((i) => this.server(i).mode()));
      const leaders = among.filter((_, k) => modes[k] === 'leader');
      const [leader] = leaders;
      if (
        leader !== undefined &&
        leaders.length === 1 &&
        modes.every((mode) => mode === 'leader' || mode === 'follower')
      )
        return leader;
      if (Date.now() > deadline) {
        const seen = among.map((i, k) => `${this.server(i).name}: ${modes[k] ?? 'not serving'}`).join(', ');
        throw new EnvironmentError(
          `zookeeper: no leader among ${among.length} servers within ${timeoutMs} ms (${seen})`,
        );
      }
      await sleep(50);
    }
  }

  /**
   * Abort the election connections between servers `a` and `b` that bypass the proxies: those the
   * higher id dialled back to the lower one's real election port. With the proxies of the link
   * disabled, neither can open a new one. Uses `ss -K`, which needs root (CAP_NET_ADMIN).
   * Not for an ensemble in namespaces, which has no proxies to bypass: cut with `network` instead.
   */
  async dropDirectElectionLinks(a: number, b: number): Promise<void> {
    if (this.network !== null)
      throw new Error(
        'zookeeper: dropDirectElectionLinks is for proxied peer links; cut namespaced servers apart with network.cut/isolate',
      );
    const low = this.server(Math.min(a, b));
    const high = this.server(Math.max(a, b));
    if (high.pid === null) return;
    const filter = ['state', 'established', 'dst', '127.0.0.1', 'dport', '=', `:${low.electionPort}`];
    const { stdout } = await run('ss', ['-tnpH', ...filter]);
    const ours = stdout.split('\n').filter((line) => line.includes(`pid=${high.pid},`));
    for (const line of ours) {
      const localPort = /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:\d+/.exec(line)?.[1];
      if (localPort === undefined) continue;
      try {
        await run('ss', ['-K', ...filter, 'sport', '=', `:${localPort}`]);
      } catch (error) {
        throw new EnvironmentError(
          `zookeeper: cannot cut the direct election link ${high.name} -> ${low.name} (ss -K needs root): ${(error as Error).message}`,
        );
      }
    }
  }

  /** Kill every server, and delete the namespaces they ran in. */
  async stop(): Promise<void> {
    try {
      await Promise.all(this.servers.map((server) => server.stop()));
    } finally {
      this.network?.destroy();
    }
  }
}

const run = promisify(execFile);

/** Start a 3-server ensemble under `dir`, all at once, and wait until every server serves under one leader. */
export async function startZooKeeperEnsemble(
  dir: string,
  options: ZooKeeperEnsembleOptions = {},
): Promise<ZooKeeperEnsemble> {
  const count = 3;
  const tickTimeMs = options.tickTimeMs ?? 100;
  if (options.namespaces === true && options.peerPort !== undefined)
    throw new Error('zookeeper: namespaces and peerPort do not mix: namespaced servers dial each other directly');
  const peerPort = options.peerPort ?? ((_from, _to, port) => Promise.resolve(port));
  const ports: (PeerPorts & { readonly client: number })[] = [];
  for (let i = 0; i < count; i++) {
    ports.push({ quorum: await freePort(), election: await freePort(), client: await freePort() });
  }
  const network = options.namespaces === true ? MemberNetwork.create(count) : null;
  const hosts = Array.from({ length: count }, (_, i) => network?.addresses[i] ?? '127.0.0.1');
  const servers: ZooKeeperServer[] = [];
  try {
    for (const [i, own] of ports.entries()) {
      const dataDir = join(dir, `zookeeper-${i + 1}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'myid'), `${i + 1}\n`);
      const lines = [
        `tickTime=${tickTimeMs}`,
        'initLimit=10',
        'syncLimit=5',
        `minSessionTimeout=${2 * tickTimeMs}`,
        'maxSessionTimeout=60000',
        `dataDir=${dataDir}`,
        `clientPort=${own.client}`,
        `clientPortAddress=${hosts[i]}`,
        '4lw.commands.whitelist=srvr,mntr,ruok',
      ];
      for (const [to, peer] of ports.entries()) {
        const self = to === i;
        const quorum = self ? peer.quorum : await peerPort(i, to, peer.quorum);
        const election = self ? peer.election : await peerPort(i, to, peer.election);
        lines.push(`server.${to + 1}=${hosts[to]}:${quorum}:${election}`);
      }
      const configFile = join(dataDir, 'zoo.cfg');
      writeFileSync(configFile, `${lines.join('\n')}\n`);
      servers.push(new ZooKeeperServer(i, dir, own.client, own.election, configFile, hosts[i], network?.wrap(i) ?? []));
    }
  } catch (error) {
    network?.destroy();
    throw error;
  }
  const ensemble = new ZooKeeperEnsemble(servers, network);
  try {
    await settleAll(servers.map((server) => server.start()));
    await ensemble.waitForLeader(undefined, options.timeoutMs ?? 20_000);
  } catch (error) {
    await ensemble.stop();
    throw error;
  }
  return ensemble;
}
