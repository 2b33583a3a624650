/**
 * RedLock's servers are N independent Redis masters: no replication between them, no
 * coordination, each judging its keys' expiry by its own wall clock. Each runs the Redis model
 * (../redis/server.ts), whose fault model applies node by node. What RedLock adds, and what can go
 * wrong between the nodes, lives in the client algorithm (lock.ts).
 */
export { redisServer as redlockServer } from '../redis/server.ts';
