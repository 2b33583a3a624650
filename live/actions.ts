/**
 * The Toxiproxy and process actions of one live run, run one after another in the order the
 * faults ask for them, so that a heal never overtakes the cut it heals. A failed action voids the
 * run: it tested something other than the scenario.
 */
import { EnvironmentError } from './process.ts';

export class ActionChain {
  private chain: Promise<void> = Promise.resolve();
  /** The first action that failed, as the error the run ends with; null while every one succeeded. */
  failure: Error | null = null;

  act(what: string, action: () => Promise<void>): void {
    this.chain = this.chain.then(action).catch((error: unknown) => {
      this.failure ??= new EnvironmentError(`live harness: ${what} failed: ${(error as Error).message}`);
    });
  }

  /** Resolves once every action asked for so far has run. */
  settled(): Promise<void> {
    return this.chain;
  }
}
