# Reads an OpenMetrics text exposition on stdin with a real OpenMetrics
# parser -- prometheus_client's, Debian's python3-prometheus-client -- and
# prints one line per family: its type, its name, and its samples' names.
# Exits 1 with the parser's complaint when it rejects the exposition.
# Run by tests/integration/test_metrics_openmetrics.cpp under
# /usr/bin/python3, the interpreter Debian's package installs into.
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

try:
    families = list(text_string_to_metric_families(sys.stdin.read()))
except ValueError as error:
    print(f"rejected: {error}", file=sys.stderr)
    sys.exit(1)
for family in families:
    print(family.type, family.name, *sorted({sample.name for sample in family.samples}))
