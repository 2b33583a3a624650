/** `redlock` 5.0.0-beta.2, unmodified (see redlock5.ts for what it does and how it is set up). */
import { createRequire } from 'node:module';
import { defineSubject } from '../define.ts';
import { redlock5Instance, type Redlock5Class } from './redlock5.ts';

export const NODE_REDLOCK_VERSION = '5.0.0-beta.2';

// The package's ESM build is not marked as a module, so only its CommonJS build exposes every export.
const { default: Redlock, ExecutionError } = createRequire(import.meta.url)('redlock') as {
  default: Redlock5Class;
  ExecutionError: new () => Error;
};

export default defineSubject({
  name: 'node-redlock',
  system: 'redlock',
  library: `redlock@${NODE_REDLOCK_VERSION}`,
  leaderElection: true,
  create: ({ clients, settings }) =>
    redlock5Instance(Redlock, (error) => error instanceof ExecutionError, clients, settings),
});
