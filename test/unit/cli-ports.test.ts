import { describe, expect, it } from "vitest";
import { dialHost, urlHost } from "../../src/cli/local/ports.ts";

describe("dialHost / urlHost", () => {
  it("dials loopback for wildcard binds and keeps concrete addresses", () => {
    expect(dialHost("0.0.0.0")).toBe("127.0.0.1");
    expect(dialHost("::")).toBe("::1");
    expect(dialHost("127.0.0.1")).toBe("127.0.0.1");
    expect(dialHost("localhost")).toBe("localhost");
  });

  it("brackets IPv6 literals for URLs only", () => {
    expect(urlHost("::1")).toBe("[::1]");
    expect(urlHost("[::1]")).toBe("[::1]");
    expect(urlHost("127.0.0.1")).toBe("127.0.0.1");
    expect(`sc://${urlHost(dialHost("::"))}:15002`).toBe("sc://[::1]:15002");
  });
});
