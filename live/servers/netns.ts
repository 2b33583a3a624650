/**
 * Network namespaces for partitions between servers, which Toxiproxy cannot make for etcd: every
 * member dials the same advertised peer URL of another, so a peer link cannot have a proxy of its
 * own. Here each member runs in a namespace of its own, all joined by a bridge in a hub namespace;
 * the harness reaches them through one more veth whose far end is in this (the root) namespace.
 *
 * A cut from A to B is a blackhole route to B's address inside A's namespace: A's packets to B are
 * dropped. On TCP that stops the link both ways (A's acknowledgements to B are dropped too), but
 * which side's routes changed is kept per direction, so cut and heal pair up exactly.
 *
 * Needs root and iproute2 (no iptables). Every namespace is named lockstep-<pid>-..., deleted on
 * destroy() and on exit; namespaces left by a harness that was SIGKILLed are deleted the next time
 * (here, and by ../leftovers.ts, in whose record each one is written before it is made).
 * Deleting a namespace deletes its veths, and with them their ends in other namespaces.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { recordNamespace } from '../leftovers.ts';
import { EnvironmentError } from '../process.ts';

const NETNS_DIR = '/var/run/netns';
const PREFIX = 'lockstep-';
let networks = 0;

function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new EnvironmentError(`netns: ip ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`);
  }
}

function namespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Delete the namespaces of harness processes that are gone. */
function deleteStale(): void {
  for (const name of namespaces()) {
    const pid = Number(/^lockstep-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) ip('netns', 'del', name);
  }
}

/** A /24 of 10.231.0.0/16 that no route of the root namespace touches yet. */
function freeSubnet(): string {
  const routes = ip('-4', 'route', 'show', 'table', 'all');
  for (let third = 0; third < 256; third++) {
    const subnet = `10.231.${third}`;
    if (!routes.includes(`${subnet}.`)) return subnet;
  }
  throw new EnvironmentError('netns: no free /24 left in 10.231.0.0/16');
}

export class MemberNetwork {
  /** Directions currently cut, keyed `from>to` (member indexes). */
  private readonly cuts = new Map<string, { readonly from: number; readonly to: number }>();
  private destroyed = false;
  private readonly onExit = () => this.destroy();
  /** On a signal, clean up; then, if nothing else will end the process (live/process.ts does), end it. */
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.destroy();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  private constructor(
    /** Namespace of each member, by index. */
    private readonly memberNamespaces: readonly string[],
    private readonly hub: string,
    /** Each member's address, reachable from the root namespace. */
    readonly addresses: readonly string[],
  ) {
    process.once('exit', this.onExit);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, this.onSignal);
  }

  /** `size` member namespaces on one bridge, reachable from here; EnvironmentError if the machine cannot. */
  static create(size: number): MemberNetwork {
    if (process.getuid?.() !== 0) throw new EnvironmentError('netns: network namespaces need root');
    deleteStale();
    const tag = `${process.pid}-${++networks}`;
    const link = `ls${process.pid}n${networks}`;
    const subnet = freeSubnet();
    const hub = `${PREFIX}${tag}-hub`;
    const members = Array.from({ length: size }, (_, i) => `${PREFIX}${tag}-${i + 1}`);
    const network = new MemberNetwork(
      members,
      hub,
      members.map((_, i) => `${subnet}.${i + 1}`),
    );
    try {
      recordNamespace(hub);
      ip('netns', 'add', hub);
      ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', hub, 'link', 'set', 'br0', 'up');
      members.forEach((ns, i) => {
        recordNamespace(ns);
        ip('netns', 'add', ns);
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        ip('link', 'add', `${link}m${i}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `b${i}`, 'netns', hub);
        ip('-n', ns, 'link', 'set', `${link}m${i}`, 'name', 'eth0');
        ip('-n', ns, 'addr', 'add', `${network.addresses[i]}/24`, 'dev', 'eth0');
        ip('-n', ns, 'link', 'set', 'eth0', 'up');
        ip('-n', hub, 'link', 'set', `b${i}`, 'master', 'br0');
        ip('-n', hub, 'link', 'set', `b${i}`, 'up');
      });
      ip('link', 'add', `${link}h`, 'type', 'veth', 'peer', 'name', 'bh', 'netns', hub);
      ip('-n', hub, 'link', 'set', 'bh', 'master', 'br0');
      ip('-n', hub, 'link', 'set', 'bh', 'up');
      ip('addr', 'add', `${subnet}.254/24`, 'dev', `${link}h`);
      ip('link', 'set', `${link}h`, 'up');
    } catch (error) {
      network.destroy();
      throw error;
    }
    return network;
  }

  /** The command prefix that runs a program in member `index`'s namespace (ip execs it in place: same pid). */
  wrap(index: number): string[] {
    return ['ip', 'netns', 'exec', this.namespaceOf(index)];
  }

  /** The namespace of member `index` (0-based). */
  private namespaceOf(index: number): string {
    const ns = this.memberNamespaces[index];
    if (ns === undefined) throw new Error(`netns: no member ${index} among ${this.memberNamespaces.length}`);
    return ns;
  }

  /** Drop every packet member `from` sends to member `to`. */
  cut(from: number, to: number): void {
    if (this.cuts.has(`${from}>${to}`)) return;
    ip('-n', this.namespaceOf(from), 'route', 'add', 'blackhole', `${this.addresses[to]}/32`);
    this.cuts.set(`${from}>${to}`, { from, to });
  }

  heal(from: number, to: number): void {
    if (!this.cuts.has(`${from}>${to}`)) return;
    ip('-n', this.namespaceOf(from), 'route', 'del', 'blackhole', `${this.addresses[to]}/32`);
    this.cuts.delete(`${from}>${to}`);
  }

  /** Cut member `index` off from every other member, both ways. */
  isolate(index: number): void {
    for (let other = 0; other < this.addresses.length; other++) {
      if (other === index) continue;
      this.cut(index, other);
      this.cut(other, index);
    }
  }

  healAll(): void {
    for (const { from, to } of [...this.cuts.values()]) this.heal(from, to);
  }

  /** Delete every namespace (and so every veth) of this network. Never throws; safe to repeat. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, this.onSignal);
    const existing = new Set(namespaces());
    for (const ns of [...this.memberNamespaces, this.hub]) {
      if (!existing.has(ns)) continue;
      try {
        ip('netns', 'del', ns);
      } catch {
        // Best effort on the way out: a leftover is deleted by the next harness (deleteStale).
      }
    }
    this.cuts.clear();
  }
}
