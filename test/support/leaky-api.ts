/**
 * A module whose public API shows generated protobuf types in some places and hides them in
 * others: the fixture that proves test/unit/public-api.test.ts finds what it is looking for.
 */
import type * as pb from "#connect-proto";

/** Options whose hook hands out a generated type. */
export interface LeakyOptions {
  onSchema?: (schema: pb.DataType) => void;
}

/** A class with one public generated-type property, one method returning options, and hidden fields. */
export class Leaky {
  readonly plan: pb.Plan | undefined;
  readonly #relation: pb.Relation | undefined;
  private readonly command: pb.Command | undefined;

  constructor(plan?: pb.Plan) {
    this.plan = plan;
    this.#relation = undefined;
    this.command = undefined;
  }

  /** The options this class is run with. */
  options(): LeakyOptions {
    return this.#relation === undefined && this.command === undefined ? {} : {};
  }
}

/** A class that keeps its generated type in a `#private` field behind a private constructor. */
export class Sealed {
  readonly #expression: pb.Expression;

  private constructor(expression: pb.Expression) {
    this.#expression = expression;
  }

  /** Text of the hidden expression's kind. */
  describe(): string {
    return this.#expression.exprType.case ?? "?";
  }
}
