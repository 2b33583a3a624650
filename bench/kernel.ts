/**
 * Benchmark workloads for the kernel. They build simulations; the timing lives in cli/bench.ts.
 */
import { Sim } from '../sim/index.ts';

/**
 * `pairs` client/server pairs; each client sends a ping and awaits the pong, `rounds` times; each
 * server awaits a ping and answers it. Every message is one network event that wakes an async
 * thread, so this measures the kernel's full path: queue, network, Future, thread accounting.
 */
export function pingPong(options: { seed: number; pairs: number; rounds: number }): Sim {
  const sim = new Sim({ seed: options.seed, network: { latency: { minMs: 0.5, maxMs: 2 } } });
  for (let p = 0; p < options.pairs; p++) {
    const server = `server-${p}`;
    const client = `client-${p}`;
    sim.addNode(server, (host) =>
      host.spawn('echo', async () => {
        for (;;) {
          const message = await host.receive();
          host.send(message.from, PONG);
        }
      }),
    );
    sim.addNode(client, (host) =>
      host.spawn('ping', async () => {
        for (let i = 0; i < options.rounds; i++) {
          host.send(server, PING);
          await host.receive();
        }
      }),
    );
  }
  return sim;
}

const PING = { type: 'ping' } as const;
const PONG = { type: 'pong' } as const;

/**
 * The bare rate of the machinery the kernel stands on: a loop wakes one thread by resolving the
 * promise it awaits, then yields one microtask turn so the thread can block again. The kernel
 * does this and more per event, so kernel rate / this rate reads as the kernel's efficiency.
 */
export async function promiseLoop(iterations: number): Promise<number> {
  let wakeThread: (() => void) | undefined;
  let woken = 0;
  const thread = async (): Promise<void> => {
    for (;;) {
      await new Promise<void>((resolve) => {
        wakeThread = resolve;
      });
      woken++;
    }
  };
  void thread();
  for (let i = 0; i < iterations; i++) {
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- void thread() ran to its first await, which set it; a guard here would be measured too
    wakeThread!();
    await Promise.resolve();
  }
  return woken;
}
