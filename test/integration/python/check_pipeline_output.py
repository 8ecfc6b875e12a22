"""Independent check of an orchard output folder on S3, with pyarrow and numpy only.

argv: endpoint access_key secret_key train_uri test_uri
Prints one JSON object on the last line: schema, counts, errors, explained variance from numpy,
projection agreement with numpy (up to sign), and 1-NN accuracy of Test/ against Training/.
"""
import json
import sys

import numpy as np
import pyarrow.fs as pafs
import pyarrow.parquet as pq

endpoint, access_key, secret_key, train_uri, test_uri = sys.argv[1:6]
scheme, host = endpoint.split("://", 1)
fs = pafs.S3FileSystem(access_key=access_key, secret_key=secret_key, endpoint_override=host, scheme=scheme, region="us-east-1")


def read(uri):
    path = uri.split("://", 1)[1].rstrip("/") + "/data"
    return pq.read_table(path, filesystem=fs)


def matrix(column):
    return np.array([np.asarray(v, dtype=np.float64) for v in column])


train = read(train_uri)
test = read(test_uri)
out = {
    "schema": [f"{f.name}:{f.type}" for f in train.schema],
    "test_schema": [f"{f.name}:{f.type}" for f in test.schema],
    "train_rows": train.num_rows,
    "test_rows": test.num_rows,
}
t = train.to_pydict()
errors = {p.rsplit("/", 1)[-1]: e for p, e in zip(t["path"], t["error"]) if e is not None}
out["errors"] = errors
out["failed_have_null_pca"] = all(pc is None for pc, e in zip(t["pca"], t["error"]) if e is not None)
ok = [i for i, e in enumerate(t["error"]) if e is None]

# PCA as Spark ML defines it: eigenvectors of the covariance of the features, projections of the
# (uncentred) features onto them, explained variance = eigenvalue / sum of eigenvalues.
X = matrix([t["features"][i] for i in ok])
P = matrix([t["pca"][i] for i in ok])
k = P.shape[1]
cov = np.cov(X, rowvar=False)
vals, vecs = np.linalg.eigh(cov)
order = np.argsort(vals)[::-1]
vals, vecs = vals[order], vecs[:, order]
out["k"] = k
out["numpy_explained_variance"] = (vals[:k] / vals.sum()).tolist()
ref = X @ vecs[:, :k]
diffs = []
for j in range(min(k, 10)):
    sign = 1.0 if np.dot(ref[:, j], P[:, j]) >= 0 else -1.0
    scale = np.abs(ref[:, j]).max()
    diffs.append(float(np.abs(sign * ref[:, j] - P[:, j]).max() / scale))
out["projection_rel_diff_first10"] = diffs

# 1-NN in PCA space: Training/ rows are the reference, Test/ rows are classified.
tt = test.to_pydict()
train_labels = np.array([t["label"][i] for i in ok])
test_ok = [i for i, e in enumerate(tt["error"]) if e is None]
Q = matrix([tt["pca"][i] for i in test_ok])
d = (Q**2).sum(1)[:, None] - 2 * Q @ P.T + (P**2).sum(1)[None, :]
pred = train_labels[np.argmin(d, axis=1)]
truth = np.array([tt["label"][i] for i in test_ok])
out["knn_accuracy"] = float((pred == truth).mean())
out["test_classified"] = len(test_ok)
print(json.dumps(out))
