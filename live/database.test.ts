/**
 * A database given by URL that cannot be used is reported without its password: a refused
 * connection names the host and port, a refused login says so (not "does not answer SELECT 1"),
 * whichever driver raised it. No server is needed: the refusals come from a closed port, and the
 * login failures are the drivers' own error objects, built as the drivers build them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { parseProvider } from '../cli/live.ts';
import { freePort } from './process.ts';
import { isAuthenticationFailure, unusable } from './servers/database.ts';
import { mysqlTarget } from './servers/mariadb.ts';
import { postgresTarget } from './servers/postgres.ts';

const SECRET = 'hunter2-Zq9';
const POSTGRES = { system: 'postgres', defaultPort: 5432 };
const MYSQL = { system: 'mysql', defaultPort: 3306 };

/** What pg raises for an ErrorResponse from the server: a DatabaseError carrying the SQLSTATE. */
function pgError(code: string, message: string): Error {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

/** What mysql2 raises for an error packet (Packet.asError): a plain Error with code, errno and sqlState. */
function mysqlError(errno: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno, sqlState: '28000', sqlMessage: message });
}

/** The message of the EnvironmentError `work` rejects with. */
async function rejection(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a rejection');
}

describe('database URLs in errors', () => {
  it('a wrong PostgreSQL password (28P01) is an authentication failure naming user and host, not the password', () => {
    const message = unusable(
      POSTGRES,
      `postgres://lockstep:${SECRET}@db.example:6432/lockstep`,
      pgError('28P01', 'password authentication failed for user "lockstep"'),
    );
    assert.equal(message, 'postgres: authentication failed for user lockstep at db.example:6432 (password rejected)');
  });

  it('a PostgreSQL login with no pg_hba.conf entry (28000) is an authentication failure too', () => {
    assert.ok(isAuthenticationFailure(pgError('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "lockstep"')));
  });

  it('a PostgreSQL server that wants a password the URL does not give says so', () => {
    const message = unusable(
      POSTGRES,
      'postgres://lockstep@db.example/lockstep',
      new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'),
    );
    assert.equal(
      message,
      'postgres: authentication failed for user lockstep at db.example:5432 (the URL gives no password)',
    );
  });

  it('a wrong MySQL password (ER_ACCESS_DENIED_ERROR, 1045) is an authentication failure, not the password', () => {
    const error = mysqlError(
      1045,
      'ER_ACCESS_DENIED_ERROR',
      "Access denied for user 'lockstep'@'10.0.0.2' (using password: YES)",
    );
    const message = unusable(MYSQL, `mysql://lockstep:${SECRET}@db.example/lockstep`, error);
    assert.equal(message, 'mysql: authentication failed for user lockstep at db.example:3306 (password rejected)');
  });

  it('other errors are not taken for authentication failures', () => {
    assert.equal(isAuthenticationFailure(pgError('57P03', 'the database system is starting up')), false);
    assert.equal(isAuthenticationFailure(mysqlError(1049, 'ER_BAD_DB_ERROR', "Unknown database 'nope'")), false);
    assert.equal(isAuthenticationFailure(new Error('connect ECONNREFUSED 127.0.0.1:5432')), false);
  });

  it('a driver message that quotes the URL has the password taken out', () => {
    const message = unusable(
      POSTGRES,
      `postgres://lockstep:${SECRET}@db.example/lockstep`,
      new Error(`cannot parse postgres://lockstep:${SECRET}@db.example/lockstep`),
    );
    assert.doesNotMatch(message, new RegExp(SECRET));
    assert.match(message, /postgres:\/\/lockstep:\*\*\*@db\.example\/lockstep does not answer SELECT 1/);
  });

  for (const [system, target, scheme] of [
    ['postgres', postgresTarget, 'postgres'],
    ['mysql', mysqlTarget, 'mysql'],
  ] as const) {
    it(`a ${system} URL on a closed port: refused, naming host and port, without the password`, async () => {
      const port = await freePort();
      const message = await rejection(target(system, `${scheme}://lockstep:${SECRET}@127.0.0.1:${port}/lockstep`));
      assert.doesNotMatch(message, new RegExp(SECRET));
      assert.match(
        message,
        new RegExp(
          `${system}: ${scheme}://lockstep:\\*\\*\\*@127\\.0\\.0\\.1:${port}/lockstep does not answer SELECT 1 \\(.*ECONNREFUSED.*\\)`,
        ),
      );
    });
  }

  it('a --postgres value of the wrong scheme is refused without echoing its password', () => {
    assert.throws(
      () => parseProvider({ provider: 'local', postgres: `mysql://lockstep:${SECRET}@db.example/lockstep` }),
      (error: Error) =>
        !error.message.includes(SECRET) && /got 'mysql:\/\/lockstep:\*\*\*@db\.example\/lockstep'/.test(error.message),
    );
  });
});
