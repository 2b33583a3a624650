/**
 * One live client, in a process of its own so that a pause is a real SIGSTOP and a crash a real
 * SIGKILL. The harness forks it, sends a ClientSpec, and hears every operation as it is
 * recorded. It runs the same workload and the same recipe as a simulated client; only the
 * Runtime and the ports are live.
 */
import { systemModule } from '../backends/index.ts';
import type { ElectionRecipe, LockRecipe } from '../backends/recipe.ts';
import { electionClient } from '../runner/election.ts';
import { History } from '../runner/history.ts';
import { mutexClient } from '../runner/mutex.ts';
import { machineMonotonicMs } from './clock.ts';
import type { ClientSpec, FromClient, ToClient } from './client-protocol.ts';
import { registerClient } from './register.ts';
import { LiveRuntime } from './runtime.ts';
import { liveSystem } from './systems/index.ts';
import { connectSubject } from './subjects/connect.ts';
import { loadSubject } from '../subjects/index.ts';

function send(message: FromClient): void {
  process.send?.(message);
}

let stopping = false;
let runtime: LiveRuntime | null = null;
/** Resolves the write this client is holding until the harness says 'write'. */
let mayWrite: () => void = () => {};

/** Ask the harness before a write, so a fault a `writing` trigger waits for lands (a SIGSTOP, a cut) before it leaves. */
function askToWrite(): Promise<void> {
  const answered = new Promise<void>((resolve) => (mayWrite = resolve));
  send({ type: 'writing' });
  return answered;
}
let go: (epochMs: number) => void = () => {};
const started = new Promise<number>((resolve) => (go = resolve));

async function run(spec: ClientSpec): Promise<void> {
  const live = new LiveRuntime(spec.id);
  runtime = live;
  const register = registerClient(spec.register, spec.id, spec.registerTimeoutMs);
  let lock: LockRecipe;
  let election: ElectionRecipe;
  let close: () => Promise<void>;
  if (spec.subject !== null) {
    const connection = await connectSubject(await loadSubject(spec.subject), spec.servers, spec.config, spec.sentinels);
    lock = connection.lock(live);
    election = connection.election(live);
    close = () => connection.close();
  } else {
    const module = systemModule(spec.system);
    const connection = await liveSystem(spec.system).connect(spec.servers, spec.config, live, spec.sentinels);
    lock = module.lock(live, connection.ports, spec.config);
    election = module.election(live, connection.ports, spec.config);
    close = () => connection.close();
  }
  await register.open();
  send({ type: 'ready' });
  const epochMs = await started;
  const history = new History(() => machineMonotonicMs() - epochMs);
  // The index is left out: the harness numbers ops when it merges every client's.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- `index` is named only to leave it out of `op`
  history.observe(({ index, ...op }) => send({ type: 'op', op }));
  if (spec.workload === 'election') {
    await electionClient(
      spec.id,
      live,
      election,
      register,
      history,
      { workMs: spec.params.holdMs, thinkMs: spec.params.thinkMs, fencing: spec.params.fencing },
      () => stopping,
    );
  } else {
    const { gateWrites, ...params } = spec.params;
    const beforeWrite = gateWrites ? askToWrite : undefined;
    await mutexClient(spec.id, live, lock, register, history, { ...params, beforeWrite }, () => stopping);
  }
  register.close();
  await close().catch(() => {});
  send({ type: 'done', failures: live.failures.map(String) });
}

process.on('message', (message: ToClient) => {
  if (message.type === 'start') {
    run(message.spec).then(
      () => process.disconnect(),
      (error: unknown) => {
        send({ type: 'failed', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        process.disconnect();
      },
    );
  } else if (message.type === 'go') {
    go(message.epochMs);
  } else if (message.type === 'stop') {
    stopping = true;
  } else if (message.type === 'write') {
    mayWrite();
  } else if (runtime !== null) {
    // What is left is 'clock', which waits for the runtime.
    if (message.jumpMs !== undefined) runtime.clock.jump(message.jumpMs);
    if (message.driftPpm !== undefined) runtime.clock.setDrift(message.driftPpm);
  }
});
// The harness going away ends the client too.
process.on('disconnect', () => process.exit(0));
