/** RedLock talks to every node through the single-Redis port, one port per node. */
export type { RedisPort as RedlockNodePort } from '../redis/port.ts';
