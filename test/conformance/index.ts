/**
 * The conformance suite: the same tests against every engine. Called by
 * test/engines.test.ts (memory, SQLite) and test/engines-redis.test.ts (Redis,
 * Redis Cluster), each in a process of its own.
 */
import { describe } from 'node:test';
import { credentialsSuite } from './credentials.js';
import { cursorsSuite } from './cursors.js';
import { errorsSuite } from './errors.js';
import { eventsSuite } from './events.js';
import { operationsSuite } from './operations.js';
import { holdsSuite } from './holds.js';
import { holdsUsersSuite } from './holds-users.js';
import { hostileSuite } from './hostile.js';
import { lifecycleSuite } from './lifecycle.js';
import { queueSuite } from './queue.js';
import { ENGINES } from '../helpers/harness.js';
import { recordsSuite } from './records.js';
import { combinationsSuite } from './combinations.js';
import { adminSuite } from './admin.js';
import { usersSuite } from './users.js';
import { transactionsSuite } from './transactions.js';

/** Runs every suite against each engine named (TESSERA_ENGINES=a,b narrows it). */
export function conformance(engines: string[]): void {
  // TESSERA_ENGINES=redis,sqlite runs a subset (all by default).
  const only = process.env.TESSERA_ENGINES?.split(',').map((e) => e.trim()).filter(Boolean);
  // A typo must not pass by running nothing.
  const unknown = only?.filter((e) => !(e in ENGINES)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`TESSERA_ENGINES names unknown engines: ${unknown.join(', ')} (known: ${Object.keys(ENGINES).join(', ')})`);
  }
  for (const engine of engines.filter((e) => !only || only.includes(e))) {
    describe(`engine: ${engine}`, () => {
      credentialsSuite(engine);
      lifecycleSuite(engine);
      queueSuite(engine);
      recordsSuite(engine);
      errorsSuite(engine);
      holdsSuite(engine);
      usersSuite(engine);
      adminSuite(engine);
      holdsUsersSuite(engine);
      hostileSuite(engine);
      transactionsSuite(engine);
      cursorsSuite(engine);
      combinationsSuite(engine);
      eventsSuite(engine);
      operationsSuite(engine);
    });
  }
}
