import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import { openRoute } from '../schemas.js';

/**
 * GET /admin: the admin page, static files served by Tessera itself.
 *
 * The files live in src/admin/ (dist/admin/ once built): index.html, admin.css,
 * icon.svg and browser modules written in TypeScript. `npm run build` compiles
 * the modules with the rest and copies the other files; run from the sources
 * (tsx, the tests) a module is compiled on its first request with TypeScript's
 * transpileModule. The page holds no data: everything it shows comes from
 * /v1/admin/* with the admin token the operator types in, so the files
 * themselves need no token (a browser cannot send one when it opens a page).
 */
const DIR = new URL('../../admin/', import.meta.url);

/** Strict: only this server's own files, no inline script or style, never in a frame. */
export const ADMIN_PAGE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  map: 'application/json; charset=utf-8',
};

/** A file name the page may ask for: one level, lower case, a known type. */
const FILE = /^[a-z][a-z0-9-]*\.(js|css|svg|js\.map)$/;

/** The files found, by name: a name that is not a file is never kept (anyone may ask for any name). */
const cache = new Map<string, Promise<Buffer | null>>();

async function readOrNull(name: string): Promise<Buffer | null> {
  try {
    return await readFile(new URL(name, DIR));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The file as built; for a module run from the sources, its .ts compiled now. */
async function load(name: string): Promise<Buffer | null> {
  const built = await readOrNull(name);
  if (built || !name.endsWith('.js')) return built;
  const source = await readOrNull(name.replace(/\.js$/, '.ts'));
  if (!source) return null;
  const ts = (await import('typescript')).default;
  const out = ts.transpileModule(source.toString('utf8'), {
    fileName: name.replace(/\.js$/, '.ts'),
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  return Buffer.from(out.outputText);
}

function file(name: string): Promise<Buffer | null> {
  let found = cache.get(name);
  if (!found) {
    found = load(name);
    cache.set(name, found);
    found.then((body) => { if (!body) cache.delete(name); }, () => cache.delete(name));
  }
  return found;
}

async function send(reply: FastifyReply, name: string): Promise<Buffer> {
  const body = await file(name);
  if (!body) throw new TesseraError('NOT_FOUND');
  return reply
    .header('content-type', TYPES[name.slice(name.lastIndexOf('.') + 1)])
    .header('content-security-policy', ADMIN_PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin')
    .send(body);
}

/** GET /admin and its files under /admin/. */
export function adminPageRoutes(app: FastifyInstance): void {
  const tags = ['service'];
  app.get('/admin', {
    schema: openRoute({
      operationId: 'adminPage', summary: 'The admin page (HTML)', tags,
      description: 'A static page for operators that holds no data and needs no token to load: it asks for an admin token '
        + 'and reads everything it shows from /v1/admin/* with it. Served with a strict Content-Security-Policy.',
      response: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } } },
    }),
  }, async (_request, reply) => send(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/admin/:file', {
    schema: openRoute({
      operationId: 'adminPageFile', summary: 'A file of the admin page (script module, style sheet, icon)', tags,
      params: { type: 'object', properties: { file: { type: 'string', maxLength: 64, description: 'For example main.js or admin.css.' } } },
      response: {
        200: {
          description: 'The file',
          content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } }, 'image/svg+xml': { schema: { type: 'string' } } },
        },
      },
    }),
  }, async (request, reply) => {
    const name = request.params.file;
    if (!FILE.test(name)) throw new TesseraError('NOT_FOUND');
    return send(reply, name);
  });
}
