/**
 * A steady writer of timed lines (bench/lines.ts), run as its own process by the latency and
 * memory benchmarks so that writing does not share an event loop with the measuring: appends
 * `--rate` lines/s for `--seconds`, every 10 ms, dealt round-robin over `--files` files in `--dir`.
 * @module
 */
import { intOption, parseCommand, runMain } from "../core/cli.ts";
import { sleep } from "../core/backoff.ts";
import { linesDue, timedLine } from "./lines.ts";

const spec = {
  name: "deno run -A bench/line_writer.ts",
  summary: "Append timed lines at a steady rate (used by deno task bench).",
  usage: "--dir DIR [--files N] --rate R --seconds S --tag TAG [--probe-every K]",
  options: {
    dir: { type: "string", arg: "DIR", description: "Directory of the files." },
    files: { type: "string", arg: "N", description: "Files f0000.log… to write to.", default: "1" },
    rate: { type: "string", arg: "R", description: "Lines per second.", default: "10000" },
    seconds: { type: "string", arg: "S", description: "How long to write.", default: "10" },
    tag: { type: "string", arg: "TAG", description: "Run tag (letters/digits) for probe words." },
    "probe-every": {
      type: "string",
      arg: "K",
      description: "Every K-th line carries a probe word (0 = none).",
      default: "0",
    },
  },
} as const;

async function main(): Promise<number> {
  const { values } = parseCommand(spec, Deno.args);
  const dir = values.dir as string | undefined;
  if (!dir) throw new Error("--dir is required");
  const files = intOption(values.files, "files", 1);
  const rate = intOption(values.rate, "rate", 10_000);
  const seconds = intOption(values.seconds, "seconds", 10);
  const probeEvery = intOption(values["probe-every"], "probe-every", 0);
  const tag = (values.tag as string | undefined) ?? "w";
  const handles: Deno.FsFile[] = [];
  for (let i = 0; i < files; i++) {
    handles.push(
      await Deno.open(`${dir}/f${String(i).padStart(4, "0")}.log`, {
        create: true,
        append: true,
      }),
    );
  }
  const encoder = new TextEncoder();
  const started = Date.now();
  const total = rate * seconds;
  let written = 0;
  while (written < total) {
    const due = Math.min(total, linesDue(rate, Date.now() - started));
    if (due > written) {
      const now = Number((performance.timeOrigin + performance.now()).toFixed(1));
      const perFile = new Map<number, string[]>();
      for (let seq = written; seq < due; seq++) {
        const f = seq % files;
        let list = perFile.get(f);
        if (!list) perFile.set(f, list = []);
        list.push(timedLine(now, seq, tag, probeEvery));
      }
      for (const [f, lines] of perFile) {
        const data = encoder.encode(lines.join("\n") + "\n");
        for (let off = 0; off < data.length;) off += await handles[f].write(data.subarray(off));
      }
      written = due;
    }
    await sleep(10);
  }
  for (const h of handles) h.close();
  console.log(JSON.stringify({ written, seconds: (Date.now() - started) / 1000 }));
  return 0;
}

if (import.meta.main) await runMain(main);
