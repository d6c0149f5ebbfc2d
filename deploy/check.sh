#!/usr/bin/env bash
# check.sh checks the monitoring files in deploy/: it validates and unit-tests
# the Prometheus alerting rules with promtool, and validates the Grafana
# dashboard as JSON with the structure it needs. Every query of the dashboard
# is also parsed by promtool, with Grafana's variables filled in. It exits
# non-zero on the first failure. Run it from anywhere:
#
#	bash deploy/check.sh
#
# When promtool is missing it installs the Debian package prometheus if run as
# root, and otherwise stops with a message saying how to get it.
set -euo pipefail

cd "$(dirname "$0")/.."

rules=deploy/prometheus/alerts.yml
tests=deploy/prometheus/alerts_test.yml
dashboard=deploy/grafana/fxpool.json

fail() {
	echo "check.sh: $*" >&2
	exit 1
}

ensure_promtool() {
	if command -v promtool >/dev/null 2>&1; then
		return
	fi
	if [[ $(id -u) -ne 0 ]]; then
		fail "promtool not found; install it (Debian or Ubuntu:" \
			"sudo apt-get install -y prometheus) or put it on PATH, then run again"
	fi
	echo "==> promtool not found: installing the prometheus package"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus
	command -v promtool >/dev/null 2>&1 || fail "promtool still not found after installing prometheus"
}

# check_dashboard validates the dashboard's JSON and structure, and writes
# each of its queries to $1 as a recording rule so that promtool can parse it.
check_dashboard() {
	python3 -m json.tool "$dashboard" >/dev/null || fail "$dashboard is not valid JSON"
	python3 - "$dashboard" "$1" <<'PY'
import json
import sys

path, out = sys.argv[1], sys.argv[2]
with open(path) as f:
    d = json.load(f)

problems = []
variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
ds = variables.get("datasource", {})
if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
    problems.append("no datasource variable of type prometheus")
for name in ("job", "instance"):
    if name not in variables:
        problems.append(f"no {name} variable")
if not isinstance(d.get("schemaVersion"), int):
    problems.append("no schemaVersion")

ids, rules = set(), []
for p in d.get("panels", []):
    if p.get("id") in ids:
        problems.append(f"panel id {p.get('id')} used twice")
    ids.add(p.get("id"))
    if p.get("type") == "row":
        continue
    title = p.get("title", "?")
    if p.get("datasource", {}).get("uid") != "${datasource}":
        problems.append(f"panel {title!r} does not use the datasource variable")
    targets = p.get("targets", [])
    if not targets:
        problems.append(f"panel {title!r} has no queries")
    for t in targets:
        expr = (t["expr"].replace("$__rate_interval", "5m")
                .replace("$job", ".*").replace("$instance", ".*"))
        if "$" in expr:
            problems.append(f"panel {title!r} query {t['refId']} has an unknown variable")
        rules.append({"record": f"dashboard:panel_{p['id']}:{t['refId']}", "expr": expr})

if problems:
    sys.exit("\n".join(f"{path}: {p}" for p in problems))
# JSON is YAML, so promtool reads this file as a rule file.
with open(out, "w") as f:
    json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
print(f"{path}: valid, {len(ids)} panels, {len(rules)} queries")
PY
}

ensure_promtool

echo "==> promtool check rules $rules"
promtool check rules "$rules"

echo "==> promtool test rules $tests"
promtool test rules "$tests"

echo "==> dashboard $dashboard"
if command -v python3 >/dev/null 2>&1; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	check_dashboard "$tmp/queries.json"
	promtool check rules "$tmp/queries.json" >/dev/null ||
		fail "$dashboard: a query does not parse; see promtool's message above"
	echo "$dashboard: every query parses"
elif command -v jq >/dev/null 2>&1; then
	jq empty "$dashboard" || fail "$dashboard is not valid JSON"
	echo "$dashboard: valid JSON (python3 not found: structure and queries not checked)"
else
	fail "neither python3 nor jq found to validate $dashboard"
fi

echo "==> all checks passed"
