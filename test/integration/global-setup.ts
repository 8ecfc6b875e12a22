import type { TestProject } from "vitest/node";

/** Provisional: uses SPARK_REMOTE when given. The infra work replaces this with real start-up. */
export default async function setup(project: TestProject): Promise<void> {
  const remote = process.env.SPARK_REMOTE;
  if (!remote) throw new Error("global-setup: SPARK_REMOTE is not set and local start-up is not wired yet");
  project.provide("sparkRemote", remote);
}

declare module "vitest" {
  export interface ProvidedContext {
    sparkRemote: string;
  }
}
