import type { SessionStore } from './contract.js';

/** Told of each store step as it settles: its name and how long it took (seconds). */
export type StepObserver = (step: string, seconds: number) => void;

/** Members that are not steps: not timed. */
const NOT_STEPS = new Set<string>(['kind', 'createQueue', 'createEventLog', 'stats', 'close']);

/**
 * The store with every step timed for whoever `observer()` names at the
 * time of the call (none: the step runs as it is). The wrappers are made
 * once, here: a call costs one function call more, not a lookup per access.
 */
export function instrumentStore(store: SessionStore, observer: () => StepObserver | null): SessionStore {
  const timed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== 'function' || NOT_STEPS.has(name)) {
      timed[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    timed[name] = (...args: unknown[]) => {
      const observe = observer();
      if (!observe) return fn.apply(store, args);
      const started = performance.now();
      const result = fn.apply(store, args);
      if (!(result instanceof Promise)) {
        observe(name, (performance.now() - started) / 1000);
        return result;
      }
      return result.then(
        (v) => { observe(name, (performance.now() - started) / 1000); return v; },
        (e) => { observe(name, (performance.now() - started) / 1000); throw e; });
    };
  }
  return timed as unknown as SessionStore;
}
