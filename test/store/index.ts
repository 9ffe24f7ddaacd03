/**
 * The store-level suite: the SessionStore steps called directly, the same
 * tests on every engine (as unstorage runs one testDriver over its drivers).
 * test/store.test.ts runs it on memory, SQLite and Redis. The HTTP conformance
 * suite (test/conformance/) checks the wire; this one checks each slice's
 * promises in the contract (src/store/contract.ts).
 */
import { describe } from 'node:test';
import { cursorsSuite } from './cursors.js';
import { holdsSuite } from './holds.js';
import { recordsSuite } from './records.js';
import { sessionsSuite } from './sessions.js';
import { transactionsSuite } from './transactions.js';
import { usersSuite } from './users.js';

export function storeSuite(engines: string[]): void {
  // TESSERA_ENGINES=memory,sqlite runs a subset (all by default).
  const only = process.env.TESSERA_ENGINES?.split(',').filter(Boolean);
  for (const engine of engines.filter((e) => !only || only.includes(e))) {
    describe(`store: ${engine}`, () => {
      sessionsSuite(engine);
      recordsSuite(engine);
      holdsSuite(engine);
      usersSuite(engine);
      transactionsSuite(engine);
      cursorsSuite(engine);
    });
  }
}
