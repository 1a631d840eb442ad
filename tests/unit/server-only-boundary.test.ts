// The browser never gets server code: from every "use client" module, the modules it loads at run time (type-only
// imports are erased) reach no module guarded with `import "server-only"`, nothing of the database layer, no Node.js
// built-in and no server-side package. Walked with TypeScript's own module resolution (tsconfig paths included), in
// well under a second, rather than by building the console.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SERVER_PACKAGES = [
  "pg",
  "@prisma/client",
  "@prisma/adapter-pg",
  "next-auth",
  "prom-client",
  "pino",
  "fastify",
  "@node-rs/argon2",
];
/** A server package's entry points made for the browser. */
const BROWSER_ENTRY_POINTS = new Set(["next-auth/react"]);
const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

const compilerOptions = (() => {
  const config = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), (file) => ts.sys.readFile(file));
  return ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT).options;
})();

interface ModuleInfo {
  guarded: boolean;
  /** Specifiers that stay in the emitted JavaScript, resolved to a file of ours or kept as a package name. */
  files: string[];
  packages: string[];
}

const cache = new Map<string, ModuleInfo>();

function runtimeSpecifiers(source: ts.SourceFile): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause?.isTypeOnly ||
        (clause &&
          !clause.name &&
          bindings &&
          ts.isNamedImports(bindings) &&
          bindings.elements.length > 0 &&
          bindings.elements.every((e) => e.isTypeOnly));
      if (!onlyTypes) specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      !node.isTypeOnly &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) specifiers.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

function moduleInfo(file: string): ModuleInfo {
  const known = cache.get(file);
  if (known) return known;
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const info: ModuleInfo = { guarded: false, files: [], packages: [] };
  for (const specifier of runtimeSpecifiers(source)) {
    if (specifier === "server-only") info.guarded = true;
    const resolved = ts.resolveModuleName(specifier, file, compilerOptions, ts.sys).resolvedModule;
    const ours = resolved && !resolved.isExternalLibraryImport && !resolved.resolvedFileName.endsWith(".d.ts");
    if (ours) info.files.push(resolved.resolvedFileName);
    else info.packages.push(specifier);
  }
  cache.set(file, info);
  return info;
}

/** Every module `entry` loads, with the chain of imports that reaches it. */
function reachable(entry: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const next of moduleInfo(file).files) {
      if (chains.has(next)) continue;
      chains.set(next, [...chains.get(file)!, next]);
      queue.push(next);
    }
  }
  return chains;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

const relative = (file: string) => path.relative(ROOT, file);
const isClientModule = (file: string) => /^\s*(?:\/\/[^\n]*\n\s*)*["']use client["']/.test(readFileSync(file, "utf8"));
const packageName = (specifier: string) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

describe("the client/server boundary", () => {
  const clientModules = [...sourceFiles("app"), ...sourceFiles("components")].filter(isClientModule);

  it("finds the console's client modules and the guarded server modules it must keep apart", () => {
    expect(clientModules.length).toBeGreaterThan(10);
    const guarded = sourceFiles("lib")
      .filter((file) => moduleInfo(file).guarded)
      .map(relative);
    expect(guarded).toEqual(
      expect.arrayContaining(["lib/control-plane/console/handler.ts", "lib/control-plane/auth/session.ts"]),
    );
  });

  it("sees a guarded module where one is reachable (a console route handler reaches the console handler)", () => {
    const route = sourceFiles("app").find((file) => file.endsWith(path.join("api", "console", "keys", "route.ts")));
    expect(route, "app/api/console/keys/route.ts").toBeDefined();
    const reached = [...reachable(route!).keys()].filter((file) => moduleInfo(file).guarded).map(relative);
    expect(reached).toContain("lib/control-plane/console/handler.ts");
  });

  it("loads no guarded module, database code, Node.js built-in or server package from any client module", () => {
    const problems: string[] = [];
    for (const entry of clientModules) {
      for (const [file, chain] of reachable(entry)) {
        const info = moduleInfo(file);
        const route = chain.map(relative).join(" → ");
        if (info.guarded) problems.push(`server-only module: ${route}`);
        if (relative(file).startsWith("lib/platform/db/")) problems.push(`database layer: ${route}`);
        for (const specifier of info.packages) {
          if (NODE_BUILTINS.has(specifier)) problems.push(`Node.js built-in ${specifier}: ${route}`);
          if (SERVER_PACKAGES.includes(packageName(specifier)) && !BROWSER_ENTRY_POINTS.has(specifier))
            problems.push(`server package ${specifier}: ${route}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
