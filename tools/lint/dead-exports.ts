// Lists value exports (functions, classes, constants) that nothing in the repository imports (app, components, lib,
// tools, scripts, bench, tests), so they can be removed or made module-private. Exported types stay: they name a
// function's options or result for callers even when no caller names them yet. Exports that Next.js, Vitest or a
// config loader read by convention are kept.
// Run: node --import tsx tools/lint/dead-exports.ts   (exits 1 when it finds any)
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Exports read by a framework, not by an import: Next.js route segments, its config files, Vitest setup files. */
const NEXT_SEGMENT_EXPORTS = new Set([
  "default",
  "metadata",
  "generateMetadata",
  "viewport",
  "generateViewport",
  "generateStaticParams",
  "dynamic",
  "revalidate",
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "HEAD",
  "OPTIONS",
]);
const CONVENTION_FILES: Array<[RegExp, (name: string) => boolean]> = [
  [/^app\//, (name) => NEXT_SEGMENT_EXPORTS.has(name)],
  [/^(next|prisma|vitest|vitest\.e2e)\.config\.ts$/, (name) => name === "default"],
  [/^instrumentation(-client)?\.ts$/, () => true],
  [/^tests\/setup\//, (name) => name === "default" || name === "setup" || name === "teardown"],
];

function loadProgram(): ts.Program {
  const configPath = path.join(ROOT, "tsconfig.json");
  const config = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  return ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true, incremental: false } });
}

function isOwnSource(file: ts.SourceFile): boolean {
  const relative = path.relative(ROOT, file.fileName);
  const generated = relative.startsWith(".next") || relative.startsWith("lib/platform/db/generated");
  return !relative.startsWith("..") && !relative.includes("node_modules") && !generated && !file.isDeclarationFile;
}

function findDeadExports(program = loadProgram()): string[] {
  const checker = program.getTypeChecker();
  const sources = program.getSourceFiles().filter(isOwnSource);
  const used = new Set<ts.Symbol>();
  const resolve = (symbol: ts.Symbol): ts.Symbol =>
    symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const useAllOf = (specifier: ts.Expression) => {
    const moduleSymbol = checker.getSymbolAtLocation(specifier);
    if (moduleSymbol) for (const symbol of checker.getExportsOfModule(moduleSymbol)) used.add(resolve(symbol));
  };
  const useName = (name: ts.ModuleExportName) => {
    const symbol = checker.getSymbolAtLocation(name);
    if (symbol) used.add(resolve(symbol));
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && node.importClause) {
      const { name, namedBindings } = node.importClause;
      if (name) useName(name);
      if (namedBindings && ts.isNamespaceImport(namedBindings)) useAllOf(node.moduleSpecifier);
      if (namedBindings && ts.isNamedImports(namedBindings)) for (const element of namedBindings.elements) useName(element.name);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      // A re-export counts as a use of what it passes on (conservative: a barrel nobody imports hides nothing else).
      if (!node.exportClause || ts.isNamespaceExport(node.exportClause)) useAllOf(node.moduleSpecifier);
      else for (const element of node.exportClause.elements) useName(element.name);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
      useAllOf(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      useAllOf(node.argument.literal);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      useAllOf(node.moduleReference.expression);
    }
    ts.forEachChild(node, visit);
  };
  for (const source of sources) visit(source);

  const dead: string[] = [];
  for (const source of sources) {
    const relative = path.relative(ROOT, source.fileName).split(path.sep).join("/");
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) continue;
    const kept = CONVENTION_FILES.find(([pattern]) => pattern.test(relative))?.[1];
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target = resolve(symbol);
      if (kept?.(symbol.name) || used.has(target) || !(target.flags & ts.SymbolFlags.Value)) continue;
      const declaration = symbol.declarations?.[0];
      const line = declaration ? source.getLineAndCharacterOfPosition(declaration.getStart()).line + 1 : 0;
      dead.push(`${relative}:${line} ${symbol.name}`);
    }
  }
  return dead.sort();
}

if (import.meta.filename === process.argv[1]) {
  const dead = findDeadExports();
  for (const line of dead) console.log(line);
  if (dead.length > 0) {
    console.error(`${dead.length} exports that nothing imports: remove them or drop the export keyword.`);
    process.exit(1);
  }
}
