/**
 * The conformance suite (test/conformance/index.ts) on the embedded engines.
 * engines-redis.test.ts runs the same suite on Redis and Redis Cluster in a
 * process of its own.
 */
import { conformance } from './conformance/index.js';
import { ENGINES } from './helpers/harness.js';

conformance(Object.keys(ENGINES).filter((e) => !e.startsWith('redis')));
