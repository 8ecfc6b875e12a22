import { OrchardError } from "../errors.ts";

/** A pipeline invariant failed (e.g. rows in != rows out) or a step cannot run on this input. */
export class PipelineError extends OrchardError {
  constructor({ message, cause }: { message: string; cause?: unknown }) {
    super("pipeline", { message, cause });
  }
}
