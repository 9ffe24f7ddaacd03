/** The conformance suite (test/conformance/index.ts) on Redis and Redis Cluster, each started by the test itself. */
import { conformance } from './conformance/index.js';
import { ENGINES } from './helpers/harness.js';

conformance(Object.keys(ENGINES).filter((e) => e.startsWith('redis')));
