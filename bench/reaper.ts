// A watchman for the bench's child processes. run.ts forks it first and tells
// it every pid it starts and its scratch directory. If run.ts disappears
// without saying goodbye (even by SIGKILL, when no exit handler runs), the
// reaper kills those pids, removes the directory and exits, so no server or
// redis-server outlives the bench.
import { rmSync } from 'node:fs';

const pids = new Set<number>();
const dirs = new Set<string>();

if (!process.send) {
  console.error('bench/reaper.ts is started by bench/run.ts (it needs an IPC channel)');
  process.exit(2);
}
process.on('message', (message: { add?: number; remove?: number; dir?: string; done?: true }) => {
  if (message.add) pids.add(message.add);
  if (message.dir) dirs.add(message.dir);
  if (message.remove) pids.delete(message.remove);
  if (message.done) {
    pids.clear();
    dirs.clear();
    process.exit(0);
  }
});
process.on('disconnect', () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Give the killed processes a moment to let go of their files.
  setTimeout(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }, 300);
});
// Never outlive the bench by much even if the channel somehow stays open: an
// orphan is handed to another parent, so a changed ppid means run.ts is gone.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.emit('disconnect');
}, 1000);
