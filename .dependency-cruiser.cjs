/**
 * The layers of src/, checked by `npm run check:layers` (part of `npm test`).
 * Imports go down only: core <- store <- service <- http, client, middleware, cli.
 * src/admin/ (browser code) imports nothing of the server; src/http serves its files without importing them.
 * No cycles anywhere; an engine folder never imports another engine.
 */
const layer = (name, mayNotImport) => ({
  name: `${name}-imports-down-only`,
  severity: 'error',
  comment: `src/${name}/ is below ${mayNotImport.join(', ')}: it must not import them.`,
  from: { path: `^src/${name}/` },
  to: { path: `^src/(${mayNotImport.join('|')})/` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles in src/, type-only imports included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    layer('core', ['store', 'service', 'http', 'client', 'middleware', 'cli', 'admin']),
    layer('store', ['service', 'http', 'client', 'middleware', 'cli', 'admin']),
    layer('service', ['http', 'client', 'middleware', 'cli', 'admin']),
    layer('http', ['client', 'middleware', 'cli']),
    layer('client', ['store', 'service', 'http', 'middleware', 'cli', 'admin']),
    // The admin page's browser modules: they run in the browser and import nothing of the server.
    layer('admin', ['core', 'store', 'service', 'http', 'client', 'middleware', 'cli']),
    {
      name: 'engines-apart',
      severity: 'error',
      comment: 'One folder per engine: an engine uses core/ and store/*.ts, never another engine.',
      from: { path: '^src/store/(memory|sqlite|redis)/' },
      to: { path: '^src/store/(memory|sqlite|redis)/', pathNot: '^src/store/$1/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: "The client's './openapi.js' is the generated src/client/openapi.d.ts (types only).",
      from: { path: '^src/' },
      to: { couldNotResolve: true, pathNot: '^\\./openapi\\.js$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
