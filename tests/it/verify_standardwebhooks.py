"""Verifies captured webhook requests with the official `standardwebhooks`
package (PyPI), independently of the hub's own signing code.

Input on stdin, JSON: {"cases": [{"secret": "whsec_...", "body": "<exact body>",
"headers": {...}}]}. Every case must verify. Exit 0 if all do, 1 if any does
not, 3 if the package is missing (`pip install standardwebhooks`; .ci/run
installs it).
"""

import json
import sys

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(
        "the Python package `standardwebhooks` is missing "
        f"({e}); install it with `pip install standardwebhooks`",
        file=sys.stderr,
    )
    sys.exit(3)


def main() -> int:
    cases = json.load(sys.stdin)["cases"]
    failures = 0
    for i, case in enumerate(cases):
        try:
            payload = Webhook(case["secret"]).verify(case["body"], case["headers"])
            print(f"case {i}: ok ({payload['type']})")
        except (WebhookVerificationError, KeyError, ValueError) as e:
            failures += 1
            print(f"case {i}: FAILED: {e!r}", file=sys.stderr)
    print(f"{len(cases) - failures} verified, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
