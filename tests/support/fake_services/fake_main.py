"""A stand-in service for stack tests: health + reflection only (nnrosetta.rpc.server.Service).

FAKE_LOAD_S: seconds its "framework" takes to load (health NOT_SERVING meanwhile);
FAKE_CRASH: exit with this code before listening. It logs NNROSETTA_CONVERTERS on start."""

import os
import sys
import time

from nnrosetta.rpc.server import Service, setup_logging


def main(name: str) -> None:
    setup_logging(name)
    print(f"fake {name} starting; NNROSETTA_CONVERTERS={os.environ.get('NNROSETTA_CONVERTERS')}"
          f" FAKE_MARK={os.environ.get('FAKE_MARK')}", file=sys.stderr, flush=True)
    if os.environ.get("FAKE_CRASH"):
        print("fake: framework import failed", file=sys.stderr, flush=True)
        sys.exit(int(os.environ["FAKE_CRASH"]))
    load_s = float(os.environ.get("FAKE_LOAD_S", "0"))
    Service(name, [], lambda server: None, load=lambda: time.sleep(load_s)).start() \
        .serve_forever()
