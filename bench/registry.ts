// The systems under test and how each one is started.
import type { AdapterKind } from './adapters.js';

export type SystemId = 'fastify-baseline' | 'express-session' | 'fastify-session' | 'tessera-sqlite' | 'tessera-redis' | 'tessera-redis-2w';

export interface SystemSpec {
  id: SystemId;
  label: string;
  adapter: AdapterKind;
  /** Needs its own redis-server. */
  redis: boolean;
  /** A server file under bench/systems/ (run transpiled), or Tessera's CLI (`workers`: its --workers). */
  launch: { script: string } | { tessera: 'sqlite' | 'redis'; workers?: number };
}

export const BASELINE: SystemId = 'fastify-baseline';

export const SYSTEMS: SystemSpec[] = [
  { id: 'fastify-baseline', label: 'bare Fastify (baseline)', adapter: 'baseline', redis: false, launch: { script: 'baseline' } },
  { id: 'express-session', label: 'express-session + connect-redis', adapter: 'peer', redis: true, launch: { script: 'express-session' } },
  { id: 'fastify-session', label: '@fastify/session + connect-redis', adapter: 'peer', redis: true, launch: { script: 'fastify-session' } },
  { id: 'tessera-sqlite', label: 'Tessera (SQLite)', adapter: 'tessera', redis: false, launch: { tessera: 'sqlite' } },
  { id: 'tessera-redis', label: 'Tessera (Redis)', adapter: 'tessera', redis: true, launch: { tessera: 'redis' } },
  { id: 'tessera-redis-2w', label: 'Tessera (Redis, 2 workers)', adapter: 'tessera', redis: true, launch: { tessera: 'redis', workers: 2 } },
];

export type Workload = 'keepalive' | 'write' | 'create';

export const WORKLOADS: { id: Workload; title: string; peers: string; tessera: string }[] = [
  {
    id: 'keepalive',
    title: '1. keep-alive (key rotation)',
    peers: '`GET /session` reads the session; the rolling cookie and the TTL are refreshed',
    tessera: '`POST /v1/session/keepalive`, a new Session-Key on every answer',
  },
  {
    id: 'write',
    title: '2. read + write session state',
    peers: '`POST /counter` loads the session, increments a counter, saves',
    tessera: '`PUT /v1/session/records/counter` `{"value": n}`',
  },
  {
    id: 'create',
    title: '3. session creation',
    peers: '`POST /login` without a cookie: a new session, saved',
    tessera: '`POST /v1/sessions` `{}`',
  },
];
