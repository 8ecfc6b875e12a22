import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const orchard = join(import.meta.dirname, "..", "..", "bin", "orchard.mjs");

describe("orchard writing into a pipe its reader closed", () => {
  it("stops quietly: no unhandled EPIPE, nothing on stderr", async () => {
    // `head -c 1` exits after the first byte, while estimate is still printing its assumptions.
    const { stdout, stderr } = await run(
      "bash",
      [
        "-c",
        `"${process.execPath}" "${orchard}" estimate --images 1000000 --nodes 2 | head -c 1; echo " rc=\${PIPESTATUS[0]}"`,
      ],
      { timeout: 60_000 },
    );
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js/);
    expect(stdout).toMatch(/ rc=0$/m);
  });
});
