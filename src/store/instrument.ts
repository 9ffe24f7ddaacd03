import type { SessionStore } from './contract.js';

/** Told of each store step as it settles: its name and how long it took (seconds). */
export type StepObserver = (step: string, seconds: number) => void;

/** Members that are not steps: not timed. */
const NOT_STEPS = new Set<PropertyKey>(['kind', 'createQueue', 'createEventLog', 'stats', 'close']);

/**
 * The store with every step timed for whoever `observer()` names at the
 * time of the call (none: the step runs as it is, at the cost of one lookup).
 */
export function instrumentStore(store: SessionStore, observer: () => StepObserver | null): SessionStore {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function' || NOT_STEPS.has(prop)) return value;
      let w = wrapped.get(prop);
      if (w) return w;
      const fn = value as (...args: unknown[]) => unknown;
      const step = String(prop);
      w = (...args: unknown[]) => {
        const observe = observer();
        if (!observe) return fn.apply(target, args);
        const started = performance.now();
        const done = () => observe(step, (performance.now() - started) / 1000);
        const result = fn.apply(target, args);
        if (result instanceof Promise) return result.then((v) => { done(); return v; }, (e) => { done(); throw e; });
        done();
        return result;
      };
      wrapped.set(prop, w);
      return w;
    },
  });
}
