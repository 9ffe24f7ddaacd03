// Preloaded into `tessera serve` by bench/commits.ts (node --import): counts the
// COMMITs better-sqlite3 runs and every statement run, and prints them on exit.
// It only wraps Database.prototype.prepare; the store is not changed.
import { createRequire } from 'node:module';
import { writeSync } from 'node:fs';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const counts = { commits: 0 };
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (source, ...rest) {
  const stmt = prepare.call(this, source, ...rest);
  if (/^\s*COMMIT\s*$/i.test(source)) {
    const run = stmt.run;
    stmt.run = function (...args) {
      counts.commits++;
      return run.apply(this, args);
    };
  }
  return stmt;
};
process.on('exit', () => writeSync(2, `tessera-commits ${JSON.stringify(counts)}\n`));
