import { OrchardError } from "../errors.ts";

/** A Spark ML argument that cannot work (checked client-side, before anything is sent). */
export class MlError extends OrchardError {
  constructor({ message, cause }: { message: string; cause?: unknown }) {
    super("plan", { message, cause });
  }
}
