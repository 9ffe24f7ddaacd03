// The baseline: bare Fastify answering a small JSON on every route, so that it
// receives exactly the requests the other systems receive (same method, path,
// headers and body) and does no session work at all.
import Fastify from 'fastify';
import { announce, LOOPBACK } from './common.js';

const app = Fastify({ logger: false });
const answer = async () => ({ ok: true });
app.all('/', answer);
app.all('/*', answer);

await app.listen({ host: LOOPBACK, port: 0 });
announce(app.server, () => app.close());
