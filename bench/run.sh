#!/usr/bin/env bash
# run.sh compares fxpool with its peers. It runs every workload against every
# peer in one go test run and writes results/: raw.txt (the go test output),
# benchstat.txt, chart.png, and table.md (the machine, then the ratio table).
#
# COUNT (default 6) and BENCHTIME (default 0.5s) set the length of the run;
# the defaults take about five minutes on two cores. The load average in
# the header shows whether other work was running when the run began.
set -euo pipefail
cd "$(dirname "$0")"

count=${COUNT:-6}
benchtime=${BENCHTIME:-0.5s}
peers=(github.com/alitto/pond/v2 github.com/panjf2000/ants/v2 golang.org/x/sync
	github.com/sourcegraph/conc github.com/prometheus/client_golang)

# fxpool_state names the pool code under test: the commit, and a hash of
# pool/ when it has uncommitted changes.
fxpool_state() {
	local rev
	rev=$(git -C .. rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
	if [ -n "$(git -C .. status --porcelain -- pool)" ]; then
		rev="$rev + uncommitted pool/ ($(cat ../pool/*.go | sha256sum | cut -c1-12))"
	fi
	echo "$rev"
}

# The header is taken before go test compiles the pool, which others may be
# editing meanwhile.
header=$(
	echo "# fxpool vs peers"
	echo
	echo "- go: $(go version | cut -d' ' -f3-)"
	echo "- nproc: $(nproc)"
	echo "- cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	echo "- fxpool: $(fxpool_state)"
	echo "- peers: $(go list -m -f '{{.Path}} {{.Version}}' "${peers[@]}" | paste -sd, - |
		sed 's/,/, /g')"
	echo "- run: \`-count=$count -cpu=2 -benchtime=$benchtime\`, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
)

mkdir -p results
go test -run '^$' -bench . -benchmem -count="$count" -cpu=2 -benchtime="$benchtime" \
	-timeout=60m ./... | tee results/raw.txt
go tool benchstat results/raw.txt | tee results/benchstat.txt
go run ./cmd/chart -in results/raw.txt -out results/chart.png

{
	echo "$header"
	echo
	go run ./cmd/ratios results/raw.txt
	echo
	echo "Medians of $count runs; × bare divides by bare's median."
	echo "W5's bare is the select-with-default variant of the channel pool."
	echo "– marks a peer that the workload leaves out; README.md says why,"
	echo "and how to read W3 and W4 on a machine with coarse timers."
} >results/table.md
cat results/table.md
