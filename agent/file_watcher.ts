/**
 * Learning from the kernel (inotify, through `Deno.watchFs`) that something changed in the
 * directories a source's globs look in, so that a new file is opened within milliseconds (a file
 * created and renamed out of the globs at once is still read: the handle keeps it) and a file
 * that grew is read at once instead of at its next poll. The periodic scan and poll stay the
 * safety net: a watch can fail (too many watches, a file system without events, a directory
 * that does not exist yet), and then only their latency is lost. While every directory is
 * watched itself (`complete`), the scan may run less often; an overflowed event queue asks for
 * a full scan (`onRescan`).
 * @module
 */
import { dirname } from "node:path";
import { getLogger } from "../core/log.ts";
import { absoluteGlob, globBase } from "./discovery.ts";

const log = getLogger("agent", "watch");

/** How long events are gathered before the callback runs, ms. */
const GATHER_MS = 5;
/** How soon a watch that failed or ended is tried again, ms. */
const RETRY_MS = 2_000;

/** What a source's globs ask to watch: each directory once, recursive where a glob goes deep. */
export function watchTargets(globs: readonly string[]): { path: string; recursive: boolean }[] {
  const targets = new Map<string, boolean>();
  for (const glob of globs) {
    const { base, depth } = globBase(absoluteGlob(glob));
    // A plain path (depth 1 with no pattern) is watched through its directory.
    const dir = depth === 1 && !/[*?{}[\]]/.test(glob) ? dirname(absoluteGlob(glob)) : base;
    targets.set(dir, (targets.get(dir) ?? false) || depth > 1);
  }
  return [...targets].map(([path, recursive]) => ({ path, recursive }));
}

/**
 * The deepest directory of `path` that exists now (a watch needs one; `/` always does).
 *
 * @example
 * ```ts
 * import { existingAncestor } from "./file_watcher.ts";
 * existingAncestor("/tmp/does-not/exist/yet"); // "/tmp"
 * ```
 */
export function existingAncestor(path: string): string {
  let dir = path;
  for (;;) {
    try {
      if (Deno.statSync(dir).isDirectory) return dir;
    } catch { /* not there (yet) */ }
    const parent = dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

/**
 * Watches a source's directories and calls `onChange` with the paths that changed (gathered over
 * a few ms). A directory that does not exist yet is watched through its nearest existing parent,
 * and watched itself once it appears.
 */
export class FileWatcher {
  readonly #targets: { path: string; recursive: boolean }[];
  readonly #onChange: (paths: string[], appeared: ReadonlySet<string>) => void;
  readonly #onRescan: () => void;
  readonly #watchers: Deno.FsWatcher[] = [];
  /** Targets watched themselves now (not through a parent, not waiting to retry). */
  #direct = 0;
  #pending = new Set<string>();
  /** Of the pending paths, those a file was created or renamed at (or from). */
  #appeared = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * `onChange`: the paths that changed, and among them those a file was created at or renamed to
   * or from (the file at such a path may be another one now). `onRescan`: the kernel dropped
   * events (its queue overflowed), so only a full scan knows what changed.
   */
  constructor(
    globs: readonly string[],
    onChange: (paths: string[], appeared: ReadonlySet<string>) => void,
    onRescan: () => void = () => {},
  ) {
    this.#targets = watchTargets(globs);
    this.#onChange = onChange;
    this.#onRescan = onRescan;
  }

  /** Every directory the globs look in is watched itself: new files are learnt of from events. */
  get complete(): boolean {
    return !this.#closed && this.#targets.length > 0 && this.#direct === this.#targets.length;
  }

  /** Starts watching; never throws (a failed watch is logged and tried again later). */
  start(): void {
    for (const target of this.#targets) void this.#watch(target);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#watchers.splice(0)) {
      try {
        w.close();
      } catch { /* closed */ }
    }
  }

  async #watch(target: { path: string; recursive: boolean }): Promise<void> {
    while (!this.#closed) {
      const dir = existingAncestor(target.path);
      const direct = dir === target.path;
      let watcher: Deno.FsWatcher;
      try {
        // Watching a parent for the directory to appear: not recursive, or `/` would be walked.
        watcher = Deno.watchFs(dir, { recursive: direct && target.recursive });
      } catch (error) {
        log.warn("cannot watch {dir} (the periodic scan finds its files): {error}", {
          dir,
          error: (error as Error).message,
        });
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      this.#watchers.push(watcher);
      if (direct) this.#direct++;
      try {
        for await (const event of watcher) {
          if (event.flag === "rescan") this.#onRescan();
          const appeared = event.kind === "create" || event.kind === "rename";
          for (const path of event.paths) {
            this.#pending.add(path);
            if (appeared) this.#appeared.add(path);
          }
          this.#timer ??= setTimeout(() => this.#flush(), GATHER_MS);
          // The directory we wait for has appeared: watch it instead of its parent.
          if (!direct && event.paths.some((p) => target.path.startsWith(p))) break;
        }
      } catch (error) {
        if (!this.#closed) {
          log.warn("watching {dir} failed (the periodic scan goes on): {error}", {
            dir,
            error: (error as Error).message,
          });
        }
      } finally {
        if (direct) this.#direct--;
        try {
          watcher.close();
        } catch { /* closed */ }
        const i = this.#watchers.indexOf(watcher);
        if (i >= 0) this.#watchers.splice(i, 1);
      }
      if (this.#closed) return;
      if (direct) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  #flush(): void {
    this.#timer = undefined;
    const paths = [...this.#pending];
    const appeared = this.#appeared;
    this.#pending = new Set();
    this.#appeared = new Set();
    if (!this.#closed && paths.length > 0) this.#onChange(paths, appeared);
  }
}
