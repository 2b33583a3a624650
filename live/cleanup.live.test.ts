/**
 * Nothing is left running: after `lockstep live` succeeds, fails, or is interrupted with SIGINT
 * mid-run, no process it started is still alive, no port it bound is still listening, no network
 * namespace of its own remains, and no temporary directory is left. Every process the harness
 * starts inherits its TMPDIR, so a private TMPDIR per invocation finds them all.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { liveEnabled } from './gate.ts';

const CLI = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));
const SYSTEMS = 'redis,zookeeper,etcd,postgres,mysql';

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
    if (read(`/proc/${entry}/environ`).split('\0').includes(`TMPDIR=${dir}`) || cwd.startsWith(`${dir}/`) || read(`/proc/${entry}/cmdline`).includes(`${dir}/`)) {
      found.push(Number(entry));
    }
  }
  return found;
}

function listeningPorts(): Set<string> {
  const out = execFileSync('ss', ['-Hltn'], { encoding: 'utf8' });
  return new Set(out.split('\n').map((line) => line.trim().split(/\s+/)[3]).filter((a): a is string => a !== undefined && a.length > 0));
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

function lockstep(args: readonly string[], tmp: string, interrupt?: Interrupt, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TMPDIR: tmp, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let sent = false;
    const read = (data: Buffer) => {
      output += data.toString();
      if (interrupt !== undefined && !sent && interrupt.when.test(output)) {
        sent = true;
        setTimeout(() => (interrupt.signal !== undefined ? interrupt.signal(tmp) : child.kill('SIGINT')), interrupt.afterMs);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

async function assertNothingLeft(tmp: string, portsBefore: Set<string>, namespacesBefore: string[], outcome: Outcome): Promise<void> {
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
  assert.deepEqual(namespaces().filter((n) => !namespacesBefore.includes(n)), [], 'network namespaces left');
  // tsx keeps its compile cache in TMPDIR (tsx-<uid>); that is the loader's, not the harness's.
  assert.deepEqual(readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name)), [], `temporary files left in ${tmp}`);
}

describe('lockstep live leaves nothing behind', { skip: !liveEnabled() && 'LIVE is not set' }, () => {
  const work = mkdtempSync(join(tmpdir(), 'lockstep-cleanup-test-'));
  const scenario = join(work, 'short.yaml');
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
  after(() => rmSync(work, { recursive: true, force: true }));

  const attempt = async (name: string, args: string[], check: (outcome: Outcome) => void, interrupt?: Interrupt, env?: NodeJS.ProcessEnv) => {
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
    await attempt('success', ['live', scenario, '--systems', SYSTEMS, '--fencing', 'on', '--out', join(work, 'runs')], (o) => assert.equal(o.code, 0, o.output));
  });

  it('after a failed run (a database that does not answer: exit 3, naming it)', async () => {
    await attempt('failure', ['live', scenario, '--systems', SYSTEMS, '--mysql', 'mysql://nobody@127.0.0.1:9/none', '--out', join(work, 'runs')], (o) => {
      assert.equal(o.code, 3, o.output);
      assert.match(o.output, /mysql/);
    });
  });

  it('a missing server binary: exit 3 naming it', async () => {
    await attempt('missing', ['live', scenario, '--systems', 'redis', '--out', join(work, 'runs')], (o) => {
      assert.equal(o.code, 3, o.output);
      assert.match(o.output, /redis-1: redis-server is not installed \(run scripts\/install-servers\.sh\)/);
    }, undefined, { PATH: '/nonexistent' });
  });

  it('a server that dies mid-run: exit 3 naming it and its log, and nothing left', async () => {
    let killed = false;
    await attempt(
      'death',
      ['live', scenario, '--systems', 'redis', '--fencing', 'off', '--out', join(work, 'runs')],
      (o) => {
        assert.ok(killed, 'the test found the server to kill');
        assert.equal(o.code, 3, o.output);
        assert.match(o.output, /redis-1 died \(SIGKILL\) during the run; log: \S+redis-1\.log/);
      },
      { when: /cluster ready/, afterMs: 1500, signal: (tmp) => {
        const server = processesWith(tmp).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server'));
        if (server !== undefined) {
          process.kill(server, 'SIGKILL');
          killed = true;
        }
      } },
    );
  });

  it('after SIGINT in the middle of a run', async () => {
    await attempt(
      'sigint',
      ['live', scenario, '--systems', SYSTEMS, '--fencing', 'on', '--out', join(work, 'runs')],
      (o) => assert.ok(o.signal === 'SIGINT' || o.code === 130, `ended by SIGINT, got ${o.code ?? o.signal}\n${o.output}`),
      { when: /cluster ready/, afterMs: 2500 },
    );
  });
});
