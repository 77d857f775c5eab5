/**
 * Where a process spent its CPU: reads V8 `.cpuprofile` files (written by `deno task bench
 * --profile DIR`, i.e. `deno run --cpu-prof`) and prints the functions and the files with the
 * most self time. The aggregation is pure and unit tested.
 *
 * ```sh
 * deno run -A bench/profile_summary.ts /tmp/prof/agent-*.cpuprofile
 * ```
 * @module
 */
import { intOption, parseCommand, runMain } from "../core/cli.ts";

/** The parts of a V8 CPU profile this summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  /** Share of all samples, 0..1. */
  share: number;
  ms: number;
}

/** A short place for a script URL: the npm package and file, or the path inside the repo. */
export function shortUrl(url: string): string {
  if (!url) return "(native)";
  const npm = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(
    url,
  );
  if (npm) return `npm:${npm[1]}/${npm[2]}`;
  const ext = /^ext:(.*)$/.exec(url);
  if (ext) return `deno:${ext[1]}`;
  const repo = /\/work\/main\/(.*)$/.exec(url) ?? /^file:\/\/(.*)$/.exec(url);
  return repo ? repo[1] : url;
}

/**
 * Self time per function and per file, largest first.
 *
 * @example
 * ```ts
 * import { summarizeProfile } from "./profile_summary.ts";
 * const s = summarizeProfile({
 *   startTime: 0, endTime: 1_000_000,
 *   nodes: [{ id: 1, callFrame: { functionName: "f", url: "file:///a.ts", lineNumber: 0 }, hitCount: 4 }],
 * });
 * s.functions[0]; // { name: "f (/a.ts:1)", share: 1, ms: 1000 }
 * ```
 */
export function summarizeProfile(
  profile: CpuProfile,
): { functions: ProfileLine[]; files: ProfileLine[]; totalMs: number } {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const h = node.hitCount ?? 0;
    if (h === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = shortUrl(url);
    const name = url
      ? `${functionName || "(anonymous)"} (${file}:${lineNumber + 1})`
      : `${functionName || "(anonymous)"}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + h);
    const fileKey = url ? file : functionName || "(native)";
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + h);
  }
  const lines = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([name, h]) => ({
      name,
      share: h / hits,
      ms: (h / hits) * totalMs,
    }));
  return { functions: lines(byFunction), files: lines(byFile), totalMs };
}

const spec = {
  name: "deno run -A bench/profile_summary.ts",
  summary: "Summarise V8 CPU profiles: self time by function and by file.",
  usage: "[--top N] FILE.cpuprofile...",
  options: {
    top: { type: "string", arg: "N", description: "Lines per table.", default: "25" },
  },
} as const;

async function main(): Promise<number> {
  const { values, positionals } = parseCommand(spec, Deno.args);
  const top = intOption(values.top, "top", 25);
  for (const path of positionals) {
    const s = summarizeProfile(JSON.parse(await Deno.readTextFile(path)));
    const show = (title: string, list: ProfileLine[]) => {
      console.log(`\n${title}`);
      for (const l of list.slice(0, top)) {
        console.log(
          `${(l.share * 100).toFixed(1).padStart(5)} %  ${
            l.ms.toFixed(0).padStart(7)
          } ms  ${l.name}`,
        );
      }
    };
    console.log(`== ${path}: ${(s.totalMs / 1000).toFixed(1)} s profiled`);
    show("self time by function", s.functions);
    show("self time by file", s.files);
  }
  return 0;
}

if (import.meta.main) await runMain(main);
