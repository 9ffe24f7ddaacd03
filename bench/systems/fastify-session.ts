// Peer: Fastify 5 + @fastify/cookie + @fastify/session + connect-redis
// (node-redis client). @fastify/session takes express-session compatible
// stores. Defaults kept: `rolling` (true) saves the session on every request,
// which is how it refreshes cookie and TTL.
//
// @fastify/session and connect-redis are loaded untyped on purpose: their type
// declarations augment FastifyRequest.session / Express's Request globally,
// and tsconfig.json compiles bench/ together with src/ and test/.
import { createRequire } from 'node:module';
import Fastify, { type FastifyRequest } from 'fastify';
import { createClient } from 'redis';
import { announce, LOOPBACK, redisUrlFromEnv, requiredEnv } from './common.js';

const require = createRequire(import.meta.url);
const fastifyCookie = require('@fastify/cookie');
const fastifySession = require('@fastify/session');
const { RedisStore } = require('connect-redis');

type SessionBag = { get(key: string): unknown; set(key: string, value: unknown): void };
const bag = (req: FastifyRequest) => (req as unknown as { session: SessionBag }).session;

const redis = createClient({ url: redisUrlFromEnv() });
redis.on('error', (err) => console.error('redis:', err.message));
await redis.connect();

const app = Fastify({ logger: false });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store: new RedisStore({ client: redis, prefix: 'fsess:' }),
  secret: requiredEnv('BENCH_SECRET'),
  saveUninitialized: false,
  cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: 1_800_000 },
});

app.post('/login', async (req, reply) => {
  const s = bag(req);
  s.set('user', 'bench');
  s.set('n', 0);
  reply.code(201);
  return { ok: true };
});

app.get('/session', async (req, reply) => {
  const s = bag(req);
  if (s.get('user') === undefined) return reply.code(401).send({ error: 'no session' });
  return { n: (s.get('n') as number | undefined) ?? 0 };
});

app.post('/counter', async (req, reply) => {
  const s = bag(req);
  if (s.get('user') === undefined) return reply.code(401).send({ error: 'no session' });
  const n = ((s.get('n') as number | undefined) ?? 0) + 1;
  s.set('n', n);
  return { n };
});

await app.listen({ host: LOOPBACK, port: 0 });
announce(app.server, async () => {
  await app.close();
  await redis.quit();
});
