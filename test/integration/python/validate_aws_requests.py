"""Validates recorded AWS API requests against botocore's service models.

    python validate_aws_requests.py RECORDING.jsonl

RECORDING is moto's server-side request log (MOTO_ENABLE_RECORDING / the recorder API): one JSON
object per request with its headers and body. Each request of the EMR API (JSON protocol:
`X-Amz-Target: ElasticMapReduce.<Operation>`) is checked with botocore's own ParamValidator
against that operation's input shape. Prints a JSON list of {operation, errors, params}; errors is
"" when the request is valid. Requests to other services are skipped (counted in the output).
"""

import base64
import json
import sys

import botocore
import botocore.session
from botocore.validate import ParamValidator


def main(path):
    model = botocore.session.get_session().get_service_model("emr")
    validator = ParamValidator()
    checked = []
    skipped = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            entry = json.loads(line)
            headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
            target = headers.get("x-amz-target", "")
            if not target.startswith("ElasticMapReduce."):
                skipped += 1
                continue
            operation = target.split(".", 1)[1]
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8")
            params = json.loads(body or "{}")
            try:
                shape = model.operation_model(operation).input_shape
            except Exception as err:  # an operation this botocore does not know
                checked.append({"operation": operation, "errors": f"unknown operation: {err}", "params": params})
                continue
            report = validator.validate(params, shape)
            checked.append(
                {"operation": operation, "errors": report.generate_report() if report.has_errors() else "", "params": params}
            )
    json.dump({"botocore": botocore.__version__, "skipped": skipped, "requests": checked}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
