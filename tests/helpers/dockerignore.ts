// .dockerignore as Docker applies it to the build context (moby/patternmatcher): patterns are
// anchored at the context's root, `*` and `?` stay within one path segment, `**` spans any number
// of segments, a pattern that matches a directory excludes everything under it, `!` re-includes,
// and the last matching pattern decides.
import path from "node:path";

interface Pattern {
  regex: RegExp;
  exclusion: boolean;
}

function toRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      // `**/` is zero or more whole segments; a trailing `**` is everything below.
      const slash = pattern[i + 2] === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) source += `\\${pattern[++i]}`;
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) throw new Error(`.dockerignore: unterminated [ in ${pattern}`);
      source += `[${pattern.slice(i + 1, end).replace(/^!/, "^")}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

export function parseDockerignore(text: string): Pattern[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const exclusion = line.startsWith("!");
      const cleaned = path.posix
        .normalize(line.slice(exclusion ? 1 : 0).trim())
        .replace(/^\/+/, "")
        .replace(/\/+$/, "");
      return { regex: toRegex(cleaned), exclusion };
    });
}

/** Whether a context-relative path (forward slashes) is left out of the build context. */
export function isIgnored(patterns: Pattern[], relativePath: string): boolean {
  const segments = relativePath.split("/");
  let ignored = false;
  for (const { regex, exclusion } of patterns) {
    // The path itself or any directory above it.
    const matches = segments.some((_, i) => regex.test(segments.slice(0, i + 1).join("/")));
    if (matches) ignored = !exclusion;
  }
  return ignored;
}
