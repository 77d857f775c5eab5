import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fingerprint, offsetPrint } from "./file_identity.ts";
import {
  type ClosedCheckpoint,
  decideUnknown,
  FORGET_AFTER_MS,
  FORGET_AFTER_SCANS,
  type KnownCheckpoint,
  planScan,
  type ScannedFile,
} from "./scan_plan.ts";

const enc = new TextEncoder();
const file = (path: string, ino: number, size = 100): ScannedFile => ({
  path,
  dev: 1,
  ino,
  size,
  mtimeMs: 0,
});
const closed = (
  fileId: string,
  ino: number,
  offset: number,
  unseen = 0,
  unseenSince?: number,
): ClosedCheckpoint => ({
  fileId,
  dev: 1,
  ino,
  fpLen: 10,
  fp: "f",
  offset,
  path: `/l/${fileId}.log`,
  unseen,
  unseenSince,
});
const none = new Map<string, number>();

Deno.test("planScan: an open file found at another path was renamed within the globs (scan before check, or after)", () => {
  // Whether the file's own look already saw it leave its path or not, the scan says where it is.
  assertEquals(
    planScan({
      found: [file("/l/app.log.1", 7), file("/l/app.log", 8)],
      open: [{ key: "1:7", path: "/l/app.log", fileId: "a" }],
      closed: [],
      settled: none,
      now: 0,
    }),
    [{ kind: "renamed", key: "1:7", path: "/l/app.log.1" }, {
      kind: "identify",
      file: file("/l/app.log", 8),
    }],
  );
});

Deno.test("planScan: an open file not found left the globs (renamed away or deleted): gone, never forgotten at once", () => {
  assertEquals(
    planScan({
      found: [],
      open: [{ key: "1:7", path: "/l/app.log", fileId: "a" }],
      closed: [],
      settled: none,
      now: 0,
    }),
    [{ kind: "gone", key: "1:7" }],
  );
});

Deno.test("planScan: a closed checkpoint's inode found again is reopened when it grew, noted when not", () => {
  assertEquals(
    planScan({
      found: [file("/l/app.log.2", 7, 150), file("/l/app.log.3", 9, 80)],
      open: [],
      closed: [closed("a", 7, 100), closed("b", 9, 80)],
      settled: none,
      now: 0,
    }),
    [
      { kind: "reopen", fileId: "a", file: file("/l/app.log.2", 7, 150) },
      { kind: "seen", fileId: "b", path: "/l/app.log.3" },
    ],
  );
});

Deno.test("planScan: an inode shorter than its checkpoint is identified (truncated, or reused by a new file)", () => {
  assertEquals(
    planScan({
      found: [file("/l/a.log", 7, 50)],
      open: [],
      closed: [closed("a", 7, 100)],
      settled: none,
      now: 0,
    })
      .map((a) => a.kind),
    ["identify"],
  );
});

Deno.test("planScan: a checkpoint no file continues is forgotten after FORGET_AFTER_SCANS scans over FORGET_AFTER_MS, not before", () => {
  const plan = (unseen: number, since: number | undefined, now: number) =>
    planScan({
      found: [],
      open: [],
      closed: [closed("a", 7, 100, unseen, since)],
      settled: none,
      now,
    })
      .length;
  for (let unseen = 0; unseen < FORGET_AFTER_SCANS + 1; unseen++) {
    // Long enough since it was first missed: the count of scans decides.
    assertEquals(plan(unseen, 0, FORGET_AFTER_MS), unseen + 1 >= FORGET_AFTER_SCANS ? 1 : 0);
  }
  // Many quick scans while files are renamed (a listing can miss one): not yet.
  assertEquals(plan(10, 0, FORGET_AFTER_MS - 1), 0);
  assertEquals(plan(10, undefined, 5), 0, "missed for the first time now");
});

Deno.test("planScan: files left alone are identified again only when their size changes; hard links once", () => {
  const settled = new Map([["1:7", 100]]);
  assertEquals(
    planScan({ found: [file("/l/x.bin", 7, 100)], open: [], closed: [], settled, now: 0 }),
    [],
  );
  assertEquals(
    planScan({ found: [file("/l/x.bin", 7, 120)], open: [], closed: [], settled, now: 0 }).map((
      a,
    ) => a.kind),
    ["identify"],
  );
  assertEquals(
    planScan({
      found: [file("/l/a", 5), file("/l/b", 5)],
      open: [],
      closed: [],
      settled: none,
      now: 0,
    })
      .length,
    1,
  );
});

function known(bytes: Uint8Array, offset: number, ino: number, open: boolean): KnownCheckpoint {
  return {
    fileId: `id-${ino}`,
    dev: 1,
    ino,
    fpLen: Math.min(256, bytes.length),
    fp: fingerprint(bytes.subarray(0, 256)),
    offset,
    offsetFp: offsetPrint(bytes.subarray(0, offset)),
    open,
  };
}

Deno.test("decideUnknown: a copy continues a closed checkpoint; a copy of an open file is left alone", () => {
  const bytes = enc.encode("2024-05-01 a\n2024-05-01 b\n2024-05-01 c\n");
  const evidence = {
    dev: 1,
    ino: 50,
    size: bytes.length,
    head: bytes,
    before: bytes.subarray(0, 26),
  };
  const options = { startAtEnd: false, now: 0 };
  assertEquals(decideUnknown({ evidence, mtimeMs: 0 }, [known(bytes, 26, 7, false)], options), {
    kind: "continue",
    fileId: "id-7",
    how: "copy",
  });
  // copytruncate seen by the scan before the look saw the truncation: the original is open.
  assertEquals(decideUnknown({ evidence, mtimeMs: 0 }, [known(bytes, 26, 7, true)], options), {
    kind: "copy-of-open",
    fileId: "id-7",
  });
  // Both: the checkpoint let go of wins (closed ones are tried first).
  assertEquals(
    decideUnknown(
      { evidence, mtimeMs: 0 },
      [known(bytes, 26, 8, true), known(bytes, 26, 7, false)],
      options,
    )
      .kind,
    "continue",
  );
});

Deno.test("decideUnknown: a new file starts at 0, or at its end on a source's first run with start_at end; ignore_older", () => {
  const bytes = enc.encode("hello\n");
  const evidence = { dev: 1, ino: 9, size: 6, head: bytes };
  assertEquals(decideUnknown({ evidence, mtimeMs: 0 }, [], { startAtEnd: false, now: 0 }), {
    kind: "new",
    offset: 0,
  });
  assertEquals(decideUnknown({ evidence, mtimeMs: 0 }, [], { startAtEnd: true, now: 0 }), {
    kind: "new",
    offset: 6,
  });
  const day = 86_400_000;
  assertEquals(
    decideUnknown({ evidence, mtimeMs: 0 }, [], {
      startAtEnd: false,
      ignoreOlderMs: day,
      now: 2 * day,
    }),
    { kind: "too-old" },
  );
  assertEquals(
    decideUnknown({ evidence, mtimeMs: day * 1.5 }, [], {
      startAtEnd: false,
      ignoreOlderMs: day,
      now: 2 * day,
    })
      .kind,
    "new",
  );
});
