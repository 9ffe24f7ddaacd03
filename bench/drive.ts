// Drives a Tessera server with autocannon from this process, for the
// one-server tools (profile.ts, commits.ts, compare.ts): `connections`
// keep-alive connections, each with a session of its own made fresh first,
// each picking up the key every answer gives. bench/load.ts is the full
// bench's own, in its separate load process.
import autocannon from 'autocannon';
import { ADAPTERS, type Ctx, type HttpWorkload } from './adapters.js';

export async function driveTessera(ctx: Ctx, workload: HttpWorkload, connections: number, seconds: number): Promise<autocannon.Result> {
  const adapter = ADAPTERS.tessera;
  const shape = adapter.shape(workload);
  const states = await Promise.all(Array.from({ length: connections }, () => adapter.prepare(ctx, workload)));
  let n = 0;
  return autocannon({
    url: new URL(shape.path, ctx.base).href, method: shape.method, connections, duration: seconds,
    setupClient(client) {
      const state = states[n++ % states.length];
      client.setHeadersAndBody(state.headers, state.body);
      client.on('headers', (info: unknown) => {
        const { statusCode, headers } = info as { statusCode: number; headers: string[] };
        if (adapter.update(workload, state, statusCode, headers)) client.setHeadersAndBody(state.headers, state.body);
      });
    },
  });
}
