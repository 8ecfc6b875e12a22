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

/** Reads a model attribute or calls a no-argument method on it (PySpark: `model.explainedVariance`). */
export async function fetchModelAttribute(session: SparkSession, ref: string, method: string): Promise<unknown> {
  const result = await runMl(session, {
    case: "fetch",
    value: create(pb.FetchSchema, {
      objRef: create(pb.ObjectRefSchema, { id: ref }),
      methods: [create(pb.Fetch_MethodSchema, { method })],
    }),
  });
  if (result?.resultType.case !== "param") {
    throw new ProtocolError({ message: `fetch ${method}: the server returned no value` });
  }
  return literalToValue(result.resultType.value);
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
