/**
 * A `pathGlobFilter` matching every extension in any case, e.g. `*.{[jJ][pP][gG],[pP][nN][gG]}`
 * (Hadoop's globs have no case-insensitive flag, so each letter becomes a character class).
 */
export function extensionGlob(extensions: readonly string[]): string {
  const anyCase = (ext: string) =>
    [...ext].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`)).join("");
  return `*.{${[...new Set(extensions.map((e) => e.toLowerCase()))].map(anyCase).join(",")}}`;
}

/** The driver-side twin of {@link extensionGlob}: does a file name have one of the extensions, in any case? */
export function extensionMatcher(extensions: readonly string[]): (name: string) => boolean {
  const wanted = new Set(extensions.map((e) => e.toLowerCase()));
  return (name) => {
    const dot = name.lastIndexOf(".");
    return dot >= 0 && wanted.has(name.slice(dot + 1).toLowerCase());
  };
}
