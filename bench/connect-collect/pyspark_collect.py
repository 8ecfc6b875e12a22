"""PySpark Connect client baseline for bench/connect-collect: same query, same server.

Prints one JSON line: seconds for collect() (Rows) and toArrow() (Arrow table) of the query.
"""
import json
import sys
import time

from pyspark.sql import SparkSession

remote, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
spark = SparkSession.builder.remote(remote).getOrCreate()
exprs = [
    "id",
    "cast(id * 2 AS double) AS twice",
    "cast(id AS string) AS s",
    "id % 7 = 0 AS b",
    "cast(id % 1000 AS int) AS small",
]
df = spark.range(0, n, 1, 4).selectExpr(*exprs)
df.limit(10).collect()  # warm-up: session, plan cache, JIT on the server


def best(fn):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


collect_s, rows = best(df.collect)
arrow_s, table = best(df.toArrow)
assert len(rows) == n and table.num_rows == n
print(json.dumps({"collect_s": collect_s, "to_arrow_s": arrow_s}))
spark.stop()
