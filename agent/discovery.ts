/**
 * Finding the files of a source: path globs (`*`, `**`, `?`, `{a,b}`, `[...]`) and exclude globs
 * turned into regular expressions, and a directory walk from each glob's literal prefix. The task
 * calls `discoverFiles` periodically (and file_watcher.ts makes it call `statMatching` on the
 * paths the kernel says changed), which is how files created later are found. Compressed files
 * (`COMPRESSED_SUFFIXES`: logrotate's `compress`) are never a source's files: sluice reads text
 * as it is written, and a compressed rotation holds lines already read from its original.
 * @module
 */
import { isAbsolute, join } from "node:path";

const GLOB_CHARS = /[*?{}[\]]/;

/** Endings of compressed files, which are left out of every source whatever its globs say. */
export const COMPRESSED_SUFFIXES: readonly string[] = [
  ".gz",
  ".bz2",
  ".xz",
  ".zst",
  ".lz4",
  ".lzma",
  ".zip",
  ".7z",
  ".tgz",
  ".Z",
];

/** True when `path` names a compressed file (by its ending). */
export function isCompressed(path: string): boolean {
  return COMPRESSED_SUFFIXES.some((suffix) => path.endsWith(suffix));
}

/**
 * A glob as a RegExp over the whole path. `*` and `?` stay within one path segment, `**` spans
 * any number of directories.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./discovery.ts";
 * globToRegExp("/var/log/**\/*.{log,txt}").test("/var/log/a/b/x.log"); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let re = "^";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        if (glob[i + 2] === "/") {
          re += "(?:[^/]*/)*";
          i += 2;
        } else {
          re += ".*";
          i += 1;
        }
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) {
      re += "|";
    } else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) {
        re += "\\[";
      } else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith("!")) cls = "^" + cls.slice(1);
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else {
      re += c.replace(/[.+^$()|\\\]]/g, "\\$&");
    }
  }
  return new RegExp(re + "$");
}

/**
 * The directory to walk for a glob and how deep: the glob's literal leading directories, and
 * the number of segments after them (Infinity with `**`).
 *
 * @example
 * ```ts
 * import { globBase } from "./discovery.ts";
 * globBase("/var/log/app/*.log"); // { base: "/var/log/app", depth: 1 }
 * ```
 */
export function globBase(glob: string): { base: string; depth: number } {
  const segments = glob.split("/");
  let i = 0;
  while (i < segments.length - 1 && !GLOB_CHARS.test(segments[i])) i++;
  const base = segments.slice(0, i).join("/") || "/";
  const rest = segments.slice(i);
  return { base, depth: rest.some((s) => s.includes("**")) ? Infinity : rest.length };
}

/** A file found by discovery, with its stat (dev, ino, size). */
export interface DiscoveredFile {
  path: string;
  info: Deno.FileInfo;
}

/** Makes a glob absolute against the working directory. */
export function absoluteGlob(glob: string, cwd = Deno.cwd()): string {
  return isAbsolute(glob) ? glob : join(cwd, glob);
}

/**
 * Lists the regular files matching any of `globs` (relative ones resolve against the working
 * directory) and none of `exclude`. Symbolic links to files
 * are followed (their target's identity is used); links to directories are not walked, so a
 * loop cannot trap the scan. Directories that do not exist (yet) are simply empty.
 */
export async function discoverFiles(
  globs: string[],
  exclude: string[] = [],
): Promise<DiscoveredFile[]> {
  const excludes = excludeRegExps(exclude);
  const found = new Map<string, DiscoveredFile>();
  for (const raw of globs) {
    const glob = absoluteGlob(raw);
    const re = globToRegExp(glob);
    if (!GLOB_CHARS.test(glob)) {
      // A plain path: one stat, no directory walk.
      const info = await statOrUndefined(glob);
      if (info?.isFile && !excludedBy(glob, excludes)) {
        found.set(glob, { path: glob, info });
      }
      continue;
    }
    const { base, depth } = globBase(glob);
    await walk(base, depth, async (path, entry) => {
      if (found.has(path) || !re.test(path) || excludedBy(path, excludes)) return;
      if (!entry.isFile && !entry.isSymlink) return;
      const info = await statOrUndefined(path);
      if (info?.isFile) found.set(path, { path, info });
    });
  }
  return [...found.values()];
}

/** A relative exclude matches at any depth ("*.gz", "archive/**"); an absolute one, the full path. */
function excludeRegExps(exclude: readonly string[]): RegExp[] {
  return exclude.map((g) => globToRegExp(isAbsolute(g) ? g : `/**/${g}`));
}

function excludedBy(path: string, excludes: readonly RegExp[]): boolean {
  return isCompressed(path) || excludes.some((x) => x.test(path));
}

/**
 * The files among `paths` (absolute, e.g. from file_watcher.ts) that a source with these globs
 * and excludes follows, with their stat; paths that are gone or are not regular files are left
 * out.
 */
export async function statMatching(
  paths: readonly string[],
  globs: readonly string[],
  exclude: readonly string[] = [],
): Promise<DiscoveredFile[]> {
  const patterns = globs.map((g) => globToRegExp(absoluteGlob(g)));
  const excludes = excludeRegExps(exclude);
  const out: DiscoveredFile[] = [];
  for (const path of new Set(paths)) {
    if (!patterns.some((re) => re.test(path)) || excludedBy(path, excludes)) continue;
    const info = await statOrUndefined(path);
    if (info?.isFile) out.push({ path, info });
  }
  return out;
}

async function walk(
  dir: string,
  depth: number,
  visit: (path: string, entry: Deno.DirEntry) => Promise<void>,
): Promise<void> {
  if (depth <= 0) return;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    // A missing or unreadable directory has nothing to tail (yet). Anything else (out of file
    // descriptors, an I/O error) fails the scan: a partial listing would make followed files
    // look gone.
    if (
      error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied ||
      error instanceof Deno.errors.NotADirectory
    ) return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await walk(path, depth - 1, visit);
    else await visit(path, entry);
  }
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch {
    return undefined;
  }
}
