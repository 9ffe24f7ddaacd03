/** The store-level suite (test/store/) on memory, SQLite and Redis (a redis-server started by test/helpers/redis.ts). */
import { storeSuite } from './store/index.js';

storeSuite(['memory', 'sqlite', 'redis']);
