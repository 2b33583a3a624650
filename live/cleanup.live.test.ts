/**
 * Nothing is left running: after `lockstep live` succeeds, fails, or is interrupted with SIGINT
 * mid-run, no process it started is still alive, no port it bound is still listening, no network
 * namespace of its own remains, and no temporary directory is left. Every process the harness
 * starts inherits its TMPDIR, so a private TMPDIR per invocation finds them all. After a SIGKILL,
 * which no harness can act on, the servers die with it and the next `lockstep live` removes the rest.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { liveEnabled } from './gate.ts';
import { processStart } from './leftovers.ts';

const CLI = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));
const SYSTEMS = 'redis,zookeeper,etcd,postgres,mysql,redis-sentinel';

/**
 * Pids of every process of this invocation: its environment carries the TMPDIR, or it works or
 * was started in a directory under it (redis-server rewrites its environment and command line for
 * its process title, but runs in its --dir).
 */
function processesWith(dir: string): number[] {
  const found: number[] = [];
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return ''; // gone, or not ours to read
    }
  };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      // gone
    }
    if (
      read(`/proc/${entry}/environ`).split('\0').includes(`TMPDIR=${dir}`) ||
      cwd.startsWith(`${dir}/`) ||
      read(`/proc/${entry}/cmdline`).includes(`${dir}/`)
    ) {
      found.push(Number(entry));
    }
  }
  return found;
}

function listeningPorts(): Set<string> {
  const out = execFileSync('ss', ['-Hltn'], { encoding: 'utf8' });
  return new Set(
    out
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[3])
      .filter((a): a is string => a !== undefined && a.length > 0),
  );
}

function namespaces(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith('lockstep-'));
  } catch {
    return [];
  }
}

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Run the CLI with a TMPDIR of its own; `interrupt` sends SIGINT `afterMs` after `when` shows up in its output. */
interface Interrupt {
  readonly when: RegExp;
  readonly afterMs: number;
  /** What to do instead of sending SIGINT to the harness. */
  readonly signal?: (tmp: string) => void;
}

function lockstep(
  args: readonly string[],
  tmp: string,
  interrupt?: Interrupt,
  env: NodeJS.ProcessEnv = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, TMPDIR: tmp, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let sent = false;
    const read = (data: Buffer) => {
      output += data.toString();
      if (interrupt !== undefined && !sent && interrupt.when.test(output)) {
        sent = true;
        setTimeout(
          () => (interrupt.signal !== undefined ? interrupt.signal(tmp) : child.kill('SIGINT')),
          interrupt.afterMs,
        );
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

async function assertNothingLeft(
  tmp: string,
  portsBefore: Set<string>,
  namespacesBefore: string[],
  outcome: Outcome,
): Promise<void> {
  // Processes that were SIGKILLed with the harness go within moments; give them that.
  for (let i = 0; i < 50 && processesWith(tmp).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const left = processesWith(tmp);
  const described = left.map((pid) => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120)}`;
    } catch {
      return String(pid);
    }
  });
  assert.deepEqual(described, [], `processes left running\n${outcome.output}`);
  const newPorts = [...listeningPorts()].filter((p) => !portsBefore.has(p));
  assert.deepEqual(newPorts, [], 'ports still listening');
  assert.deepEqual(
    namespaces().filter((n) => !namespacesBefore.includes(n)),
    [],
    'network namespaces left',
  );
  // tsx keeps its compile cache in TMPDIR (tsx-<uid>); that is the loader's, not the harness's.
  assert.deepEqual(
    readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name)),
    [],
    `temporary files left in ${tmp}`,
  );
}

/** A process's state letter (T: stopped) and command name, from /proc/PID/stat; null once it is gone. */
function stateOf(pid: number): { state: string; comm: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return {
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      state: stat.slice(stat.lastIndexOf(')') + 2)[0]!,
    };
  } catch {
    return null;
  }
}

interface Seen {
  readonly pid: number;
  readonly start: string | null;
  readonly comm: string;
}

/** Those of `seen` that are still the same processes (a reused pid is someone else). */
function stillAlive(seen: readonly Seen[]): Seen[] {
  return seen.filter((p) => p.start !== null && processStart(p.pid) === p.start);
}

/** Wait until `condition` holds, polling every 100 ms for at most `withinMs`. */
async function until(condition: () => boolean, withinMs: number): Promise<void> {
  for (let waitedMs = 0; waitedMs < withinMs && !condition(); waitedMs += 100)
    await new Promise((r) => setTimeout(r, 100));
}

/**
 * Start the CLI with a TMPDIR of its own, and SIGKILL it once one of its processes is stopped (a
 * scenario's pause of a server): the processes it had then, and its output.
 */
async function killedWhilePaused(args: readonly string[], tmp: string): Promise<{ processes: Seen[]; output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const paused = () => processesWith(tmp).some((pid) => stateOf(pid)?.state === 'T');
  await until(() => paused() || child.exitCode !== null, 60_000);
  const processes = processesWith(tmp).map((pid) => ({
    pid,
    start: processStart(pid),
    comm: stateOf(pid)?.comm ?? '',
  }));
  const wasPaused = paused();
  child.kill('SIGKILL');
  await exited;
  assert.ok(wasPaused, `no process of the run was ever stopped\n${output}`);
  return { processes, output };
}

describe('lockstep live leaves nothing behind', { skip: !liveEnabled() && 'LIVE is not set' }, () => {
  const work = mkdtempSync(join(tmpdir(), 'lockstep-cleanup-test-'));
  const scenario = join(work, 'short-run.yaml');
  writeFileSync(
    scenario,
    [
      'name: short-run',
      'description: a few seconds of locking, long enough to be interrupted',
      'workload: mutex',
      'clients: 2',
      'durationMs: 4000',
      'lock: { ttlMs: 1000, holdMs: 50, thinkMs: 20 }',
      'faults:',
      '  - { at: 1000, pause: holder, forMs: 500 }',
      '',
    ].join('\n'),
  );
  // Every PostgreSQL process stopped from 500 ms on, well past the SIGKILL; PostgreSQL runs first.
  const pausing = join(work, 'paused-servers.yaml');
  writeFileSync(
    pausing,
    [
      'name: paused-servers',
      'description: the servers stopped for longer than the harness lives',
      'workload: mutex',
      'clients: 2',
      'durationMs: 30000',
      'systems: [postgres, redis, zookeeper, etcd, mysql, redis-sentinel]',
      'lock: { ttlMs: 1000, holdMs: 50, thinkMs: 20 }',
      'faults:',
      '  - { at: 500, pause: servers, forMs: 25000 }',
      '',
    ].join('\n'),
  );
  const tiny = join(work, 'tiny.yaml');
  writeFileSync(
    tiny,
    [
      'name: tiny',
      'description: one second, no faults',
      'workload: mutex',
      'clients: 2',
      'durationMs: 1000',
      'lock: { ttlMs: 1000, holdMs: 50, thinkMs: 20 }',
      '',
    ].join('\n'),
  );
  after(() => rmSync(work, { recursive: true, force: true }));

  const attempt = async (
    name: string,
    args: string[],
    check: (outcome: Outcome) => void,
    interrupt?: Interrupt,
    env?: NodeJS.ProcessEnv,
  ) => {
    const tmp = mkdtempSync(join(work, `${name}-`));
    // Database servers run as their own accounts and must reach their directories under it.
    chmodSync(work, 0o755);
    chmodSync(tmp, 0o755);
    const ports = listeningPorts();
    const spaces = namespaces();
    const outcome = await lockstep(args, tmp, interrupt, env);
    check(outcome);
    await assertNothingLeft(tmp, ports, spaces, outcome);
  };

  it('after a successful run', async () => {
    await attempt(
      'success',
      ['live', scenario, '--systems', SYSTEMS, '--fencing', 'on', '--out', join(work, 'runs')],
      (o) => assert.equal(o.code, 0, o.output),
    );
  });

  it('after a failed run (a database that does not answer: exit 3, naming it and where, not its password)', async () => {
    await attempt(
      'failure',
      [
        'live',
        scenario,
        '--systems',
        SYSTEMS,
        '--mysql',
        'mysql://nobody:hunter2-Zq9@127.0.0.1:9/none',
        '--out',
        join(work, 'runs'),
      ],
      (o) => {
        assert.equal(o.code, 3, o.output);
        assert.match(
          o.output,
          /mysql: mysql:\/\/nobody:\*\*\*@127\.0\.0\.1:9\/none does not answer SELECT 1 \(connect E[A-Z]+/,
        );
        assert.doesNotMatch(o.output, /hunter2-Zq9/);
      },
    );
  });

  it('a missing server binary: exit 3 naming it', async () => {
    await attempt(
      'missing',
      ['live', scenario, '--systems', 'redis', '--out', join(work, 'runs')],
      (o) => {
        assert.equal(o.code, 3, o.output);
        assert.match(o.output, /redis-1: redis-server is not installed \(run scripts\/install-servers\.sh\)/);
      },
      undefined,
      { PATH: '/nonexistent' },
    );
  });

  it('a server that dies mid-run: exit 3 naming it and its log, and nothing left', async () => {
    let killed = false;
    await attempt(
      'death',
      ['live', scenario, '--systems', 'redis', '--fencing', 'off', '--out', join(work, 'runs')],
      (o) => {
        assert.ok(killed, 'the test found the server to kill');
        assert.equal(o.code, 3, o.output);
        const log = /redis-1 died \(SIGKILL\) during the run; log: (\S+redis-1\.log)/.exec(o.output)?.[1];
        assert.ok(log !== undefined, o.output);
        // The log named is kept past teardown, in the output directory, with what the server wrote.
        assert.ok(existsSync(log), `${log} does not exist after the command ended`);
        assert.ok(log.startsWith(join(work, 'runs')), `${log} is not under --out`);
        assert.match(readFileSync(log, 'utf8'), /Ready to accept connections/);
      },
      {
        when: /cluster ready/,
        afterMs: 1500,
        signal: (tmp) => {
          const server = processesWith(tmp).find((pid) =>
            readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server'),
          );
          if (server !== undefined) {
            process.kill(server, 'SIGKILL');
            killed = true;
          }
        },
      },
    );
  });

  it('after SIGKILL with a server paused: the servers die with it, and the next start removes the rest', async () => {
    const tmp = mkdtempSync(join(work, 'kill9-'));
    chmodSync(work, 0o755);
    chmodSync(tmp, 0o755);
    const ports = listeningPorts();
    const spaces = namespaces();
    const first = await killedWhilePaused(
      ['live', pausing, '--systems', SYSTEMS, '--fencing', 'off', '--out', join(work, 'runs')],
      tmp,
    );
    assert.ok(
      first.processes.some((p) => p.comm !== 'node'),
      `no server process was seen\n${first.output}`,
    );
    // A PostgreSQL backend carries no parent-death SIGKILL, and stopped, it acts on no other signal.
    const stoppedBackend = (p: Seen) => p.comm === 'postgres' && stateOf(p.pid)?.state === 'T';
    await until(() => stillAlive(first.processes).every(stoppedBackend), 5000);
    assert.deepEqual(
      stillAlive(first.processes).filter((p) => !stoppedBackend(p)),
      [],
      `processes that outlived the harness\n${first.output}`,
    );

    const next = await lockstep(
      ['live', tiny, '--systems', 'redis', '--fencing', 'off', '--out', join(work, 'runs')],
      tmp,
    );
    assert.equal(next.code, 0, next.output);
    assert.match(
      next.output,
      /removed what a killed harness \(pid \d+\) left: \d+ process\(es\), [1-9]\d* network namespace\(s\), [1-9]\d* directory\(ies\)/,
    );
    assert.deepEqual(stillAlive(first.processes), [], 'processes of the killed run still alive after the next start');
    await assertNothingLeft(tmp, ports, spaces, next);
  });

  it('after SIGINT in the middle of a run', async () => {
    await attempt(
      'sigint',
      ['live', scenario, '--systems', SYSTEMS, '--fencing', 'on', '--out', join(work, 'runs')],
      (o) =>
        assert.ok(o.signal === 'SIGINT' || o.code === 130, `ended by SIGINT, got ${o.code ?? o.signal}\n${o.output}`),
      { when: /cluster ready/, afterMs: 2500 },
    );
  });
});
