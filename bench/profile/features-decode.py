"""How fast Spark turns the bridge's features text into array<float> (issue 14, "features as text").

Classic PySpark on local[2] (run it with the peer's venv: `$(bash bench/peer/venv.sh)
bench/profile/features-decode.py`): 3000 rows of 1280 float32 values like the model's (ReLU
outputs: 30% zeros, the rest exponential), decoded by each candidate, best of 5 interleaved rounds:
  - from_json of today's text (each value's 9 significant digits, trailing zeros dropped);
  - from_json of 7 significant digits (lossy: within a few ulps; Java parses <= 7 digits on its
    fast path, more through FloatingDecimal's slow path with FDBigInteger);
  - cast(split(...) as array<float>) of both;
  - the value's IEEE-754 bits as decimal ints, cast(split(...) as array<int>) and the float rebuilt
    with a higher-order function (bit-exact; no Spark 4.1 function reinterprets bits or binary as
    float: cast(binary as int) is refused, from_avro needs the spark-avro jar pyspark does not ship).
Prints seconds per candidate and checks the bit-exact one against from_json. Asserts nothing.
"""
import time

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.driver.memory", "3g")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("OFF")
rng = np.random.default_rng(1)
N, D = 3000, 1280
feats = (rng.exponential(0.5, (N, D)) * (rng.random((N, D)) > 0.3)).astype(np.float32)


def text(v, digits):
    if v == 0:
        return "0"
    s = f"{float(v):.{digits}g}"
    mantissa, _, exponent = s.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa + ("e" + exponent if exponent else "")


rows = [
    (
        "[" + ",".join(text(v, 9) for v in r) + "]",
        "[" + ",".join(text(v, 7) for v in r) + "]",
        ",".join(str(int(x)) for x in r.view(np.int32)),
    )
    for r in feats
]
df = spark.createDataFrame(rows, "j9 string, j7 string, ints string").repartition(2).cache()
df.count()
exp = "((x >> 23) & 255)"
bits = (
    f"x -> CASE WHEN {exp} = 255 THEN NULL ELSE CAST((CASE WHEN x < 0 THEN -1D ELSE 1D END) * "
    f"(CASE WHEN {exp} = 0 THEN (x & 8388607) * power(2D, -149) "
    f"ELSE ((x & 8388607) + 8388608) * power(2D, {exp} - 150) END) AS FLOAT) END"
)
candidates = {
    "from_json, 9 digits (today)": F.from_json("j9", "array<float>"),
    "from_json, 7 digits": F.from_json("j7", "array<float>"),
    "cast(split), 9 digits": F.expr("cast(split(substring(j9, 2, length(j9) - 2), ',') as array<float>)"),
    "cast(split), 7 digits": F.expr("cast(split(substring(j7, 2, length(j7) - 2), ',') as array<float>)"),
    "int bits + transform": F.expr(f"transform(cast(split(ints, ',') as array<int>), {bits})"),
}
best = {}
for _ in range(5):
    for name, e in candidates.items():
        t = time.perf_counter()
        df.select(e.alias("f")).agg(F.max(F.col("f")[D - 1]), F.max(F.size("f"))).collect()
        best[name] = min(best.get(name, float("inf")), time.perf_counter() - t)
for name, s in best.items():
    print(f"{s:6.2f} s  {1000 * s / N:.2f} ms/row  {name}")
check = df.select(candidates["from_json, 9 digits (today)"].alias("a"), candidates["int bits + transform"].alias("b"))
print("int bits bit-identical to from_json:", all(list(r.a) == list(r.b) for r in check.limit(100).collect()))
spark.stop()
