/**
 * What a module's public API lets a consumer see, walked with the TypeScript compiler: every
 * exported symbol, and every type reachable from it through public members (properties,
 * accessors, methods, call and construct signatures, type arguments, index signatures).
 * Private and protected members, `#private` fields and private constructors are not public and
 * are not walked; types declared in node_modules or the standard library are not walked into
 * (their type arguments are).
 */
import { dirname, join } from "node:path";
import ts from "typescript";

/** One public place where a type declared in a generated file shows. */
export interface Exposure {
  /** Dotted path from the export, e.g. `Column.expr` or `ExecuteOptions.onSchema(schema)`. */
  readonly path: string;
  /** The type as the checker prints it. */
  readonly type: string;
}

/** A program over `roots` with the compiler options of the repository's tsconfig.json. */
export function programOf(repoRoot: string, roots: readonly string[]): ts.Program {
  const configPath = join(repoRoot, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(configPath));
  return ts.createProgram({ rootNames: [...roots], options: { ...parsed.options, noEmit: true } });
}

function isHiddenDeclaration(d: ts.Declaration): boolean {
  const name = (d as { name?: ts.Node }).name;
  if (name !== undefined && ts.isPrivateIdentifier(name)) return true;
  return (ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
}

function isHidden(symbol: ts.Symbol): boolean {
  if (String(symbol.escapedName).startsWith("__#")) return true;
  return (symbol.declarations ?? []).some(isHiddenDeclaration);
}

function isHiddenSignature(signature: ts.Signature): boolean {
  const d = signature.declaration;
  if (d === undefined || ts.isJSDocSignature(d)) return false;
  return (ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
}

/**
 * The public places in `entry`'s exports where a type declared in a file matching
 * `isGenerated` shows. Empty when the generated code is sealed.
 */
export function exposedTypes(
  program: ts.Program,
  entry: string,
  isGenerated: (fileName: string) => boolean,
): Exposure[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new RangeError(`${entry} is not part of the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) throw new RangeError(`${entry} is not a module`);
  const found = new Map<string, Exposure>();
  const seen = new Set<ts.Type>();

  const declaredIn = (symbol: ts.Symbol | undefined, test: (fileName: string) => boolean) =>
    (symbol?.declarations ?? []).some((d) => test(d.getSourceFile().fileName));
  const isExternal = (fileName: string) => {
    const file = program.getSourceFile(fileName);
    return fileName.includes("/node_modules/") || (file !== undefined && program.isSourceFileDefaultLibrary(file));
  };
  const report = (path: string, type: ts.Type) => {
    const text = checker.typeToString(type);
    found.set(`${path}: ${text}`, { path, type: text });
  };

  const visitSignature = (signature: ts.Signature, path: string) => {
    if (isHiddenSignature(signature)) return;
    for (const tp of signature.getTypeParameters() ?? []) visitType(tp, `${path}<${tp.symbol.name}>`);
    for (const p of signature.getParameters()) visitType(checker.getTypeOfSymbol(p), `${path}(${p.name})`);
    visitType(checker.getReturnTypeOfSignature(signature), `${path}()`);
  };

  const visitType = (type: ts.Type, path: string): void => {
    const symbol = type.getSymbol();
    if (
      (type.aliasSymbol !== undefined && declaredIn(type.aliasSymbol, isGenerated)) ||
      declaredIn(symbol, isGenerated)
    ) {
      report(path, type);
      return;
    }
    for (const a of type.aliasTypeArguments ?? []) visitType(a, `${path}<>`);
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) visitType(t, path);
      return;
    }
    if ((type.flags & ts.TypeFlags.TypeParameter) !== 0) {
      const c = checker.getBaseConstraintOfType(type);
      if (c !== undefined && c !== type) visitType(c, path);
      return;
    }
    // Object types are walked once (a shared type shows its generated members under one path).
    if ((type.flags & ts.TypeFlags.Object) === 0 || seen.has(type)) return;
    seen.add(type);
    if (((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) !== 0) {
      for (const a of checker.getTypeArguments(type as ts.TypeReference)) visitType(a, `${path}<>`);
    }
    if (declaredIn(symbol, isExternal)) return;
    for (const p of checker.getPropertiesOfType(type)) {
      if (!isHidden(p)) visitType(checker.getTypeOfSymbol(p), `${path}.${p.name}`);
    }
    for (const s of checker.getSignaturesOfType(type, ts.SignatureKind.Call)) visitSignature(s, path);
    for (const s of checker.getSignaturesOfType(type, ts.SignatureKind.Construct)) visitSignature(s, `new ${path}`);
    for (const info of checker.getIndexInfosOfType(type)) visitType(info.type, `${path}[]`);
  };

  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = (exported.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(exported) : exported;
    const name = exported.name;
    if (declaredIn(symbol, isGenerated)) {
      found.set(name, { path: name, type: checker.symbolToString(symbol) });
      continue;
    }
    if ((symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) !== 0) {
      visitType(checker.getDeclaredTypeOfSymbol(symbol), name);
    }
    if ((symbol.flags & ts.SymbolFlags.Value) !== 0) visitType(checker.getTypeOfSymbol(symbol), name);
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}
