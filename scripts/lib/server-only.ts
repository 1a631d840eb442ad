// `import "server-only"` guards the modules only Next.js's server may load (console services, auth): it resolves to an
// empty module under Next's react-server condition and throws anywhere else, so a client bundle cannot pull them in.
// Outside Next (the Fastify server bundle, Vitest) the guard has nothing to guard against: it resolves to the empty module.
import { createRequire } from "node:module";
import path from "node:path";
import type { Plugin } from "esbuild";

const require = createRequire(import.meta.url);

/** The package's own empty module (what the react-server condition resolves to). */
export const SERVER_ONLY_OUTSIDE_NEXT = path.join(path.dirname(require.resolve("server-only")), "empty.js");

/** Bundles server-only as its empty module rather than leaving it external (where Node would resolve the throwing one). */
export const serverOnlyOutsideNext: Plugin = {
  name: "server-only-outside-next",
  setup(build) {
    build.onResolve({ filter: /^server-only$/ }, () => ({ path: SERVER_ONLY_OUTSIDE_NEXT }));
  },
};
