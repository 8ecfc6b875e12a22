import { OrchardError } from "../errors.ts";

/** One image could not be used (bad bytes, unsupported format, over a limit). Its message becomes that row's `error`. */
export class ImageError extends OrchardError {
  constructor({ message, cause }: { message: string; cause?: unknown }) {
    super("input", { message, cause });
  }
}
