// The systems under test and how each one is started.
import type { AdapterKind } from './adapters.js';

export type SystemId = 'fastify-baseline' | 'express-session' | 'fastify-session' | 'tessera-sqlite' | 'tessera-sqlite-full' | 'tessera-redis'
  | 'tessera-redis-2w';

export interface SystemSpec {
  id: SystemId;
  label: string;
  adapter: AdapterKind;
  /** Needs its own redis-server. */
  redis: boolean;
  /** A server file under bench/systems/ (run transpiled), or Tessera's CLI (`workers`: its --workers). */
  launch: { script: string } | { tessera: 'sqlite' | 'redis'; workers?: number; synchronous?: 'full' };
  /** Where it keeps sessions, and what an answered write survives at the measured speed (printed beside every table). */
  conditions: { store: string; durability: string };
}

export const BASELINE: SystemId = 'fastify-baseline';

export const SYSTEMS: SystemSpec[] = [
  {
    id: 'fastify-baseline', label: 'bare Fastify (baseline)', adapter: 'baseline', redis: false, launch: { script: 'baseline' },
    conditions: { store: 'none (answers from memory, keeps nothing)', durability: 'nothing is kept' },
  },
  {
    id: 'express-session', label: 'express-session + connect-redis', adapter: 'peer', redis: true, launch: { script: 'express-session' },
    conditions: { store: 'its own redis-server over loopback (one round trip or two per request)', durability: 'Redis with no persistence (as the bench runs it): lost if Redis stops' },
  },
  {
    id: 'fastify-session', label: '@fastify/session + connect-redis', adapter: 'peer', redis: true, launch: { script: 'fastify-session' },
    conditions: { store: 'its own redis-server over loopback (one round trip or two per request)', durability: 'Redis with no persistence (as the bench runs it): lost if Redis stops' },
  },
  {
    id: 'tessera-sqlite', label: 'Tessera (SQLite)', adapter: 'tessera', redis: false, launch: { tessera: 'sqlite' },
    conditions: { store: 'a SQLite file in the server process (no network hop)', durability: 'WAL, synchronous=normal: an answered write survives a crash of the process, not a power loss' },
  },
  {
    id: 'tessera-sqlite-full', label: 'Tessera (SQLite, synchronous=full)', adapter: 'tessera', redis: false, launch: { tessera: 'sqlite', synchronous: 'full' },
    conditions: { store: 'a SQLite file in the server process (no network hop)', durability: 'WAL, synchronous=full: an answered write is on disk (fsync) before the answer, so it survives a power loss too' },
  },
  {
    id: 'tessera-redis', label: 'Tessera (Redis)', adapter: 'tessera', redis: true, launch: { tessera: 'redis' },
    conditions: { store: 'its own redis-server over loopback (one script per step)', durability: 'Redis with no persistence (as the bench runs it): lost if Redis stops' },
  },
  {
    id: 'tessera-redis-2w', label: 'Tessera (Redis, 2 workers)', adapter: 'tessera', redis: true, launch: { tessera: 'redis', workers: 2 },
    conditions: { store: 'its own redis-server over loopback, shared by 2 server processes', durability: 'Redis with no persistence (as the bench runs it): lost if Redis stops' },
  },
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
