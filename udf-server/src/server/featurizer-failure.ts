/**
 * The featurizer failed on a whole batch: the model or its runtime threw, a worker thread died,
 * no session is alive. That is infrastructure, not data: the batch's exchanges fail (gRPC
 * UNAVAILABLE) so their rows are sent again, and no row records it as an image error.
 */
import { OrchardError } from "../errors.ts";

/** A batch the featurizer could not process (see the module comment). */
export class FeaturizerFailure extends OrchardError {
  constructor({ message, cause }: { message: string; cause?: unknown }) {
    super("setup", { message, cause });
  }
}
