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
  for (const name of memberNames(store)) {
    const value = (store as unknown as Record<string, unknown>)[name];
    if (typeof value !== 'function') {
      Object.defineProperty(timed, name, { get: () => (store as unknown as Record<string, unknown>)[name], enumerable: true });
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    timed[name] = NOT_STEPS.has(name) ? fn.bind(store) : (...args: unknown[]) => {
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

/** A store's members, its own and its classes' (a store may be an object of functions or a class instance). */
function memberNames(store: object): Set<string> {
  const names = new Set<string>();
  for (let o: object | null = store; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor') names.add(name);
  }
  return names;
}
