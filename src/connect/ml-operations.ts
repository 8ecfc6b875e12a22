import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { DataFrame } from "./data-frame.ts";
import { ProtocolError } from "./errors.ts";
import type { ExecuteOptions } from "./execute-options.ts";
import { clientOf, dataFrameFrom, relationOf } from "./internal.ts";
import { toLiteral } from "./literal.ts";
import type { LiteralValue } from "./literal-input.ts";
import { literalToValue } from "./literal-value.ts";
import type { SparkSession } from "./spark-session.ts";

/**
 * Spark ML over Spark Connect: the protocol half. Estimators, models and their attributes live on
 * the server (Spark >= 4.0 keeps fitted models in a per-session cache and hands out object ids);
 * this file speaks `MlCommand` / `MlRelation`, and `src/ml/` builds the PySpark-like API on it.
 */

/** ML params by name, e.g. `{ k: 3, inputCol: "features" }` (sent as typed literals). */
export type MlParams = Readonly<Record<string, LiteralValue>>;

/** What the server says about a model it holds. */
export interface RemoteModelInfo {
  /** Server-side object id, used by later fetch/transform/write/delete calls. */
  readonly ref: string;
  readonly uid?: string;
  readonly params: Record<string, unknown>;
  readonly warning?: string;
}

function mlParams(params: MlParams): pb.MlParams {
  const out: Record<string, pb.Expression_Literal> = {};
  for (const [name, value] of Object.entries(params)) out[name] = toLiteral(value);
  return create(pb.MlParamsSchema, { params: out });
}

async function runMl(
  session: SparkSession,
  command: pb.MlCommand["command"],
  options?: ExecuteOptions,
): Promise<pb.MlCommandResult | undefined> {
  const cmd = create(pb.CommandSchema, {
    commandType: { case: "mlCommand", value: create(pb.MlCommandSchema, { command }) },
  });
  const outcome = await clientOf(session).executeCommand(cmd, options);
  for (const r of outcome.responses) {
    if (r.responseType.case === "mlCommandResult") return r.responseType.value;
  }
  return undefined;
}

function modelInfo(result: pb.MlCommandResult | undefined, what: string): RemoteModelInfo {
  if (result?.resultType.case !== "operatorInfo" || result.resultType.value.type.case !== "objRef") {
    throw new ProtocolError({ message: `${what}: the server returned no model reference` });
  }
  const info = result.resultType.value;
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info.params?.params ?? {})) params[k] = literalToValue(v);
  return {
    ref: (info.type.value as pb.ObjectRef).id,
    params,
    ...(info.uid === undefined ? {} : { uid: info.uid }),
    ...(info.warningMessage ? { warning: info.warningMessage } : {}),
  };
}

/**
 * Fits the estimator `className` (e.g. `org.apache.spark.ml.feature.PCA`) on `dataset` on the
 * server. PySpark: `Estimator.fit(df)` in Connect mode.
 */
export async function fitEstimator(
  dataset: DataFrame,
  estimator: { className: string; uid: string; params: MlParams },
  options?: ExecuteOptions,
): Promise<RemoteModelInfo> {
  const result = await runMl(
    dataset.sparkSession,
    {
      case: "fit",
      value: create(pb.MlCommand_FitSchema, {
        estimator: create(pb.MlOperatorSchema, {
          name: estimator.className,
          uid: estimator.uid,
          type: pb.MlOperator_OperatorType.ESTIMATOR,
        }),
        params: mlParams(estimator.params),
        dataset: relationOf(dataset),
      }),
    },
    options,
  );
  return modelInfo(result, `fit ${estimator.className}`);
}

/**
 * Reads a model attribute or calls a no-argument method on it (PySpark: `model.explainedVariance`);
 * a chain (`["summary", "trainingCost"]`) is followed on the server, each method on the previous
 * result (PySpark: `model.summary.trainingCost`).
 */
export async function fetchModelAttribute(
  session: SparkSession,
  ref: string,
  method: string | readonly string[],
): Promise<unknown> {
  const chain = typeof method === "string" ? [method] : method;
  const result = await runMl(session, {
    case: "fetch",
    value: create(pb.FetchSchema, {
      objRef: create(pb.ObjectRefSchema, { id: ref }),
      methods: chain.map((m) => create(pb.Fetch_MethodSchema, { method: m })),
    }),
  });
  if (result?.resultType.case !== "param") {
    throw new ProtocolError({ message: `fetch ${chain.join(".")}: the server returned no value` });
  }
  return literalToValue(result.resultType.value);
}

/** An ML operator that is not a fitted model: an estimator, a plain transformer or an evaluator. */
export interface MlOperatorSpec {
  /** Spark's class, e.g. `org.apache.spark.ml.feature.IndexToString`. */
  readonly className: string;
  readonly uid: string;
  readonly type: "estimator" | "transformer" | "evaluator";
  readonly params: MlParams;
}

const OPERATOR_TYPES = {
  estimator: pb.MlOperator_OperatorType.ESTIMATOR,
  transformer: pb.MlOperator_OperatorType.TRANSFORMER,
  evaluator: pb.MlOperator_OperatorType.EVALUATOR,
} as const;

function mlOperator(spec: Pick<MlOperatorSpec, "className" | "uid" | "type">): pb.MlOperator {
  return create(pb.MlOperatorSchema, { name: spec.className, uid: spec.uid, type: OPERATOR_TYPES[spec.type] });
}

/**
 * Evaluates `dataset` with the evaluator `className` on the server and returns the metric.
 * PySpark: `Evaluator.evaluate(df)` in Connect mode.
 */
export async function evaluateWith(
  dataset: DataFrame,
  evaluator: { className: string; uid: string; params: MlParams },
  options?: ExecuteOptions,
): Promise<number> {
  const result = await runMl(
    dataset.sparkSession,
    {
      case: "evaluate",
      value: create(pb.MlCommand_EvaluateSchema, {
        evaluator: mlOperator({ ...evaluator, type: "evaluator" }),
        params: mlParams(evaluator.params),
        dataset: relationOf(dataset),
      }),
    },
    options,
  );
  const value = result?.resultType.case === "param" ? literalToValue(result.resultType.value) : undefined;
  if (typeof value !== "number") {
    throw new ProtocolError({ message: `evaluate ${evaluator.className}: the server returned no metric` });
  }
  return value;
}

/**
 * A lazy DataFrame: a plain (non-model) transformer such as `IndexToString`, built on the server
 * from its class and params, applied to `dataset`. PySpark: `transformer.transform(df)`.
 */
export function transformWithTransformer(
  dataset: DataFrame,
  transformer: { className: string; uid: string; params: MlParams },
): DataFrame {
  return dataFrameFrom(
    dataset.sparkSession,
    create(pb.RelationSchema, {
      relType: {
        case: "mlRelation",
        value: create(pb.MlRelationSchema, {
          mlType: {
            case: "transform",
            value: create(pb.MlRelation_TransformSchema, {
              operator: { case: "transformer", value: mlOperator({ ...transformer, type: "transformer" }) },
              input: relationOf(dataset),
              params: mlParams(transformer.params),
            }),
          },
        }),
      },
    }),
  );
}

/**
 * Saves an estimator, transformer or evaluator (not a fitted model) in Spark ML's format.
 * PySpark: `estimator.write().overwrite().save(path)`.
 */
export async function writeOperator(
  session: SparkSession,
  spec: MlOperatorSpec,
  { path, overwrite }: { path: string; overwrite: boolean },
): Promise<void> {
  await runMl(session, {
    case: "write",
    value: create(pb.MlCommand_WriteSchema, {
      type: { case: "operator", value: mlOperator(spec) },
      params: mlParams(spec.params),
      path,
      shouldOverwrite: overwrite,
    }),
  });
}

/** What the server says about an estimator, transformer or evaluator it loaded. */
export interface RemoteOperatorInfo {
  readonly uid?: string;
  /** The params that were set when it was saved (defaults are not included). */
  readonly params: Record<string, unknown>;
}

/**
 * Loads an estimator, transformer or evaluator saved in Spark ML's format; nothing stays on the
 * server (such operators are rebuilt from their params on each use). PySpark: `IndexToString.load(path)`.
 */
export async function readOperator(
  session: SparkSession,
  { className, type }: Pick<MlOperatorSpec, "className" | "type">,
  path: string,
): Promise<RemoteOperatorInfo> {
  const result = await runMl(session, {
    case: "read",
    value: create(pb.MlCommand_ReadSchema, { operator: mlOperator({ className, uid: "", type }), path }),
  });
  if (result?.resultType.case !== "operatorInfo") {
    throw new ProtocolError({ message: `load ${className} from ${path}: the server returned no operator` });
  }
  const info = result.resultType.value;
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info.params?.params ?? {})) params[k] = literalToValue(v);
  return { params, ...(info.uid === undefined ? {} : { uid: info.uid }) };
}

/** A lazy DataFrame: the server-side model applied to `dataset` (PySpark: `model.transform(df)`). */
export function transformWithModel(dataset: DataFrame, ref: string, params: MlParams): DataFrame {
  const session = dataset.sparkSession;
  return dataFrameFrom(
    session,
    create(pb.RelationSchema, {
      relType: {
        case: "mlRelation",
        value: create(pb.MlRelationSchema, {
          mlType: {
            case: "transform",
            value: create(pb.MlRelation_TransformSchema, {
              operator: { case: "objRef", value: create(pb.ObjectRefSchema, { id: ref }) },
              input: relationOf(dataset),
              params: mlParams(params),
            }),
          },
        }),
      },
    }),
  );
}

/**
 * Saves a server-side model in Spark ML's format at `path` (any Hadoop URI the server can write:
 * `file://`, `s3a://`, ...). PySpark: `model.write().overwrite().save(path)`.
 */
export async function writeModel(
  session: SparkSession,
  ref: string,
  { path, params, overwrite }: { path: string; params: MlParams; overwrite: boolean },
): Promise<void> {
  await runMl(session, {
    case: "write",
    value: create(pb.MlCommand_WriteSchema, {
      type: { case: "objRef", value: create(pb.ObjectRefSchema, { id: ref }) },
      params: mlParams(params),
      path,
      shouldOverwrite: overwrite,
    }),
  });
}

/** Loads a model saved in Spark ML's format into the server's cache. PySpark: `PCAModel.load(path)`. */
export async function readModel(session: SparkSession, className: string, path: string): Promise<RemoteModelInfo> {
  const result = await runMl(session, {
    case: "read",
    value: create(pb.MlCommand_ReadSchema, {
      operator: create(pb.MlOperatorSchema, { name: className, type: pb.MlOperator_OperatorType.MODEL }),
      path,
    }),
  });
  return modelInfo(result, `load ${className} from ${path}`);
}

/** Frees server-side model objects (PySpark does this when a model is garbage-collected). */
export async function deleteModels(session: SparkSession, refs: readonly string[]): Promise<void> {
  if (refs.length === 0) return;
  await runMl(session, {
    case: "delete",
    value: create(pb.MlCommand_DeleteSchema, {
      objRefs: refs.map((id) => create(pb.ObjectRefSchema, { id })),
    }),
  });
}
