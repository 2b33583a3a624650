/** `@sesamecare-oss/redlock` 1.4.0, the maintained fork of redlock 5, unmodified (see redlock5.ts). */
import { createRequire } from 'node:module';
import { defineSubject } from '../define.ts';
import { redlock5Instance, type Redlock5Class } from './redlock5.ts';

const { Redlock, ExecutionError } = createRequire(import.meta.url)('@sesamecare-oss/redlock') as {
  Redlock: Redlock5Class;
  ExecutionError: new () => Error;
};

export default defineSubject({
  name: 'sesamecare-redlock',
  system: 'redlock',
  library: '@sesamecare-oss/redlock@1.4.0',
  leaderElection: true,
  create: ({ clients, settings }) =>
    redlock5Instance(Redlock, (error) => error instanceof ExecutionError, clients, settings),
});
