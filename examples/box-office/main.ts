/**
 * `npm run example`: the box office on http://127.0.0.1:3000 with Tessera
 * in-process on an embedded SQLite file (./data/box-office.db).
 *
 *   npm run example -- --port 3000 --hold-ttl 600
 *   npm run example -- --tessera http://127.0.0.1:8080 --token APP_TOKEN [--admin-token ADMIN_TOKEN]
 *
 * With --tessera the site talks to a Tessera server (its users must include
 * alice and bob, role customer; an admin token lets the seat map show other
 * visitors' holds and sets the standing pools).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { Tessera } from '../../src/service/tessera.js';
import { createSqliteStore } from '../../src/store/sqlite/index.js';
import { createBoxOffice, DEMO_USERS } from './app.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string', default: './data/box-office.db' },
    'hold-ttl': { type: 'string', default: '600' },
    tessera: { type: 'string' },
    token: { type: 'string' },
    'admin-token': { type: 'string' },
  },
});

// A fixed secret keeps visitors' cookies valid across restarts; without one, each start makes its own.
const secret = process.env.BOX_OFFICE_SECRET ?? randomBytes(32).toString('base64url');
const holdTtl = Number(values['hold-ttl']);
let tessera: Tessera | undefined;
if (!values.tessera) {
  tessera = new Tessera({ store: createSqliteStore({ path: values.db! }), config: { users: DEMO_USERS } });
  tessera.startSweeper();
}
const app = await createBoxOffice(tessera
  ? { tessera, secret, holdTtl }
  : { url: values.tessera, token: values.token, adminToken: values['admin-token'], secret, holdTtl });
const server: Server = app.listen(Number(values.port), values.host, () => {
  const a = server.address();
  const where = typeof a === 'object' && a ? `http://${values.host}:${a.port}` : String(a);
  console.log(`box office on ${where} (Tessera ${tessera ? `in-process, SQLite ${values.db}` : `at ${values.tessera}`})`);
});
const stop = () => server.close(async () => {
  await tessera?.close();
  process.exit(0);
});
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
