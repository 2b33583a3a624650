/**
 * `lockstep demo`: a short story told by the kernel alone. Two clients increment a counter held
 * by a store node, with no lock at all, while the world misbehaves: a client is paused, a link
 * holds its packets, the store crashes and comes back from disk, and a clock jumps. The same seed
 * tells the same story, to the event; the demo runs it twice to show it.
 */
import { Sim, checkDeterminism, type Host, type Message } from '../sim/index.ts';

interface Line {
  readonly atMs: number;
  readonly text: string;
}

const REQUEST_TIMEOUT_MS = 400;

export function buildDemo(seed: number, log: (line: Line) => void, trace?: { recordLimit?: number }): Sim {
  const sim = new Sim({ seed, network: { latency: { minMs: 1, maxMs: 4 } }, trace });
  const say = (text: string) => log({ atMs: sim.nowMs, text });

  sim.addNode('store', (host) => {
    const value = () => (host.disk.get('counter') as number | undefined) ?? 0;
    host.onMessage((message: Message) => {
      const request = message.payload as { type: string; id: number; value?: number };
      if (request.type === 'write') host.disk.set('counter', request.value);
      host.send(message.from, { type: 'reply', id: request.id, value: value() });
    });
  });
  for (const name of ['c1', 'c2']) sim.addNode(name, (host) => client(host, say));

  sim.at(1_000, 'fault', () => {
    sim.pause('c1');
    say('c1 paused (a stop-the-world GC)');
  });
  sim.at(2_500, 'heal', () => {
    sim.resume('c1');
    say('c1 resumed');
  });
  sim.at(3_000, 'fault', () => {
    sim.partition('c2', 'store', { mode: 'hold' });
    say('link c2<->store holds its packets');
  });
  sim.at(3_800, 'heal', () => {
    sim.heal('c2', 'store');
    say('link c2<->store healed: held packets arrive now');
  });
  sim.at(4_200, 'fault', () => {
    sim.jumpClock('c2', 10_000);
    say("c2's wall clock jumps 10 s forward");
  });
  sim.at(5_000, 'fault', () => {
    sim.crash('store');
    say('store crashed');
  });
  sim.at(5_300, 'heal', () => {
    sim.restart('store', { persist: true });
    say('store restarted from disk');
  });
  return sim;
}

/** Read, think, write back read+1: a lost update waiting to happen. */
function client(host: Host, say: (text: string) => void): void {
  const pending = new Map<number, (value: number) => void>();
  let nextId = 0;
  host.onMessage((message) => {
    const reply = message.payload as { id: number; value: number };
    pending.get(reply.id)?.(reply.value);
    pending.delete(reply.id);
  });
  const call = (request: { type: string; value?: number }) =>
    host.deadline(() => {
      const id = nextId++;
      const answer = host.future<number>();
      pending.set(id, (value) => answer.resolve(value));
      host.send('store', { ...request, id });
      return answer;
    }, REQUEST_TIMEOUT_MS);

  host.spawn('increment', async () => {
    for (let round = 0; round < 12; round++) {
      try {
        const seen = await call({ type: 'read' });
        await host.sleep(150 + host.rng.int(0, 100));
        const stored = await call({ type: 'write', value: seen + 1 });
        say(
          `${host.id} read ${seen}, wrote ${stored} (its wall clock reads ${(host.clock.now() / 1000).toFixed(3)} s)`,
        );
      } catch (error) {
        say(`${host.id} gave up on a request: ${(error as Error).message}`);
      }
      await host.sleep(200);
    }
  });
}

export async function runDemo(seed: number, print: (text: string) => void): Promise<boolean> {
  print(`lockstep kernel demo, seed ${seed}: two clients, one store, no lock.\n`);
  const sim = buildDemo(seed, (line) => print(`  ${(line.atMs / 1000).toFixed(3).padStart(7)} s  ${line.text}`));
  const summary = await sim.run();
  const increments = 24;
  const final = (sim.node('store').disk.get('counter') as number | undefined) ?? 0;
  print('');
  print(
    `${summary.events} events in ${(summary.nowMs / 1000).toFixed(3)} s of virtual time; trace ${summary.traceHash}`,
  );
  print(`counter ends at ${final} after up to ${increments} attempted increments: without a lock, updates are lost.`);
  const report = await checkDeterminism(async (trace) => {
    const again = buildDemo(seed, () => undefined, trace);
    await again.run();
    return again.kernel.trace;
  });
  print(report.message);
  print(`\nThe same seed replays the same story: npx lockstep demo --seed ${seed}`);
  return report.deterministic;
}
