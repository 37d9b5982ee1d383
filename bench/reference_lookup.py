"""The reference lookup service of `csar bench serve`: PDQ lookups served the way HMA serves
them, Flask under gunicorn around threatexchange's PDQ index (faiss multi-hash tables).

It answers csar's own request shape, so one load script drives both:
POST /v1/lookup {"hashes":[{"type":"pdq","value":HEX}]}
  -> {"results":[{"type","value","matches":[{"bank","distance"}]}]}
and GET /health once the index is loaded.

Run (the bench does this):
  CSAR_REFERENCE_HASHES=hashes.txt gunicorn --preload -w 5 -b 127.0.0.1:PORT \
    --chdir bench reference_lookup:app
hashes.txt holds one PDQ hash (64 hex digits) a line; the line number is its id.
"""

import os
import time

from flask import Flask, jsonify, request
from threatexchange.signal_type.pdq.signal import PdqSignal

started = time.monotonic()
with open(os.environ["CSAR_REFERENCE_HASHES"], encoding="ascii") as lines:
    entries = [(line.strip(), number) for number, line in enumerate(lines) if line.strip()]
# PdqSignal's index class is what HMA builds for PDQ banks (threshold 31).
index = PdqSignal.get_index_cls().build(entries)
del entries
loaded_seconds = time.monotonic() - started

app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(status="ok", hashes=len(index), load_seconds=loaded_seconds)


@app.post("/v1/lookup")
def lookup():
    body = request.get_json(force=True)
    results = []
    for asked in body["hashes"]:
        value = asked["value"].lower()
        matches = [
            {"bank": "reference", "distance": match.similarity_info.distance}
            for match in index.query(value)
        ]
        results.append({"type": "pdq", "value": value, "matches": matches})
    return jsonify(results=results)
