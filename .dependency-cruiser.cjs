// The dependency rules of the tree (docs/architecture.md, "Layout"), checked by `npm run lint`.
// The data plane serves completions without the console; the platform below both planes knows neither; lib/ never
// reaches into the Next.js app or its components. tools/, scripts/, bench/ and tests/ may import anything.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle, type-only ones included: move the shared part to the lower module.",
      from: {},
      to: { circular: true },
    },
    {
      name: "data-plane-not-to-control-plane-or-ui",
      severity: "error",
      comment: "The data plane runs without the console: no control plane, Next.js, React, next-auth or UI code.",
      from: { path: "^lib/data-plane/" },
      to: { path: ["^lib/control-plane/", "^app/", "^components/", "^node_modules/(next|react|react-dom|next-auth)/"] },
    },
    {
      name: "lib-not-to-app-or-components",
      severity: "error",
      comment: "lib/ holds the domain; the Next.js app and its components use it, never the other way round.",
      from: { path: "^lib/" },
      to: { path: ["^app/", "^components/"] },
    },
    {
      name: "platform-not-to-planes",
      severity: "error",
      comment:
        "The platform sits below both planes. Only the composition root wires them: the process (boot.ts) and the " +
        "leader's jobs (singletons.ts); features hand the platform what it needs (options, callbacks, rules).",
      from: { path: "^lib/platform/", pathNot: "^lib/platform/process/(boot|singletons)\\.ts$" },
      to: { path: ["^lib/data-plane/", "^lib/control-plane/"] },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Packages are resolved (the rules name some) but not cruised into.
    exclude: { path: ["^lib/platform/db/generated/", "^\\.next/"] },
    // Type-only imports count: a type-only cycle is still a cycle in the design.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
    },
  },
};
