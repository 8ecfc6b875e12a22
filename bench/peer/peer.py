"""The peer: the classic PySpark job orchard replaces, on the same model, for bench/peer/run.ts.

binaryFile -> a pandas UDF (peer_model.py: Pillow decode, the model's centre crop and
normalisation, onnxruntime with 1 thread per Python worker, the same model.onnx) -> Spark ML PCA
-> Parquet, partitioned as orchard partitions the same work (the same tasks on both sides). One
SparkSession for the whole process (its Python workers are reused between runs);
each line on stdin is one run, as JSON {"input": dir, "output": dir, "k": 50}; each run answers
one line on stdout, `PEER {...}` with its timings in ms. `PEER ready {...}` once the session is up.

  python peer.py --model-dir ~/.cache/orchard/models/efficientnet-lite0 [--master local[2]]
"""
import argparse
import json
import os
import sys
import time

import pandas as pd
from pyspark.ml.feature import PCA
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

ap = argparse.ArgumentParser()
ap.add_argument("--model-dir", required=True)
ap.add_argument("--master", default="local[2]")
args = ap.parse_args()

# The Python workers run this venv's interpreter too (else the first python3 on PATH).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
t0 = time.perf_counter()
spark = (
    SparkSession.builder.master(args.master)
    .appName("orchard-bench-peer")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.memory", "2g")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("WARN")
spark.sparkContext.addPyFile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_model.py"))
model_dir = args.model_dir


@F.pandas_udf("features array<float>, error string")
def featurize(content: pd.Series) -> pd.DataFrame:
    import peer_model

    features, errors = peer_model.featurize(content, model_dir)
    return pd.DataFrame({"features": features, "error": errors})


def run(input_dir, output_dir, k):
    times = {}
    start = time.perf_counter()
    files = (
        spark.read.format("binaryFile")
        .option("pathGlobFilter", "*.jpg")
        .option("recursiveFileLookup", "true")
        .load(input_dir)
    )
    # Partitioned as orchard does it (src/pipeline/cluster-cores.ts, run-pipeline.ts), so that both
    # sides run the same tasks: whole waves of at most ~2000 images per task, made by merging the
    # scan's partitions; and the PCA fit on one partition on a local master (OpenBLAS threads).
    n = spark.sparkContext.defaultParallelism
    count = files.select("path").count()
    tasks = max(1, min(n * -(-count // (2000 * n)), count))
    images = files.coalesce(tasks) if count >= 32 * tasks else files.repartition(tasks)
    featurized = (
        images.select("path", F.element_at(F.split("path", "/"), -2).alias("label"), featurize("content").alias("r"))
        .select("path", "label", "r.features", "r.error")
        .cache()
    )
    rows = featurized.count()
    times["features"] = time.perf_counter() - start
    t = time.perf_counter()
    good = featurized.where(F.col("features").isNotNull()).withColumn("vec", array_to_vector("features"))
    model = PCA(k=k, inputCol="vec", outputCol="pca").fit(good.coalesce(1))
    times["pca"] = time.perf_counter() - t
    t = time.perf_counter()
    projected = model.transform(good.coalesce(1)).select("path", "label", vector_to_array("pca", "float32").alias("pca"), "error")
    failed = featurized.where(F.col("features").isNull()).select(
        "path", "label", F.lit(None).cast("array<float>").alias("pca"), "error"
    )
    projected.unionByName(failed).write.mode("overwrite").parquet(output_dir)
    times["write"] = time.perf_counter() - t
    featurized.unpersist()
    wall = time.perf_counter() - start
    return {"images": rows, "wallMs": round(wall * 1000), **{f"{step}Ms": round(s * 1000) for step, s in times.items()}}


print("PEER ready " + json.dumps({"startupMs": round((time.perf_counter() - t0) * 1000)}), flush=True)
for line in sys.stdin:
    if line.strip():
        job = json.loads(line)
        print("PEER " + json.dumps(run(job["input"], job["output"], int(job.get("k", 50)))), flush=True)
spark.stop()
