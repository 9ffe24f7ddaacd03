// Peer: Express 5 + express-session + connect-redis (node-redis client), set up
// the way its README suggests: no resave, no uninitialized sessions, rolling
// cookies so that a request that reads the session refreshes cookie and TTL.
//
// express-session and connect-redis are loaded untyped on purpose: their type
// declarations augment Express's Request globally, and tsconfig.json compiles
// bench/ together with src/ and test/, which may declare their own `session`.
import { createRequire } from 'node:module';
import express from 'express';
import { createClient } from 'redis';
import { announce, LOOPBACK, redisUrlFromEnv, requiredEnv } from './common.js';

const require = createRequire(import.meta.url);
const session = require('express-session');
const { RedisStore } = require('connect-redis');

type SessionBag = { n?: number; user?: string; save(cb: (err?: unknown) => void): void };
const bag = (req: express.Request) => (req as unknown as { session: SessionBag }).session;

const redis = createClient({ url: redisUrlFromEnv() });
redis.on('error', (err) => console.error('redis:', err.message));
await redis.connect();

const app = express();
app.disable('x-powered-by');
app.use(
  session({
    store: new RedisStore({ client: redis, prefix: 'sess:' }),
    secret: requiredEnv('BENCH_SECRET'),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: 1_800_000 },
  }),
);

// Creates a new session (no cookie sent) and saves it.
app.post('/login', (req, res) => {
  const s = bag(req);
  s.user = 'bench';
  s.n = 0;
  res.status(201).json({ ok: true });
});

// Reads the session; rolling refreshes the cookie and touch() refreshes the TTL.
app.get('/session', (req, res) => {
  const s = bag(req);
  if (s.user === undefined) return void res.status(401).json({ error: 'no session' });
  res.json({ n: s.n ?? 0 });
});

// Read, increment, save: the classic load-modify-store of a session.
app.post('/counter', (req, res) => {
  const s = bag(req);
  if (s.user === undefined) return void res.status(401).json({ error: 'no session' });
  s.n = (s.n ?? 0) + 1;
  res.json({ n: s.n });
});

const server = app.listen(0, LOOPBACK);
await new Promise<void>((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
announce(server, async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await redis.quit();
});
