#!/usr/bin/env bash
# Prints, as markdown, the FUSE requests per file of each metadata figure
# on one mount (from bench/run.sh's requests.csv) beside the floor they put
# under it: native time plus one measured round trip (statfs_rtt) per
# synchronous request. A ratio to the floor near 1 means the requests, not
# the daemon, set the time; the way below it is fewer requests.
#   bench/requests_table.sh [TARGET [RESULTS_DIR]]
set -euo pipefail
TARGET=${1:-passthrough}
DIR=${2:-$(dirname "$0")/results}
awk -F, -v target="$TARGET" '
  FNR == NR {
    if (FNR == 1) { for (i = 1; i <= NF; i++) col[$i] = i; next }
    native[$1] = $(col["native"]); mine[$1] = $(col[target]); next
  }
  $2 == target { files[$1] = $3; sync[$1] = $4; per[$1] = $5
    by = $6; for (i = 7; i <= NF; i++) by = by "," $i; ops[$1] = by; order[++n] = $1 }
  END {
    rtt = mine["statfs_rtt"]
    printf "Requests per file on `%s` (one round trip: %.1f µs)\n\n", target, rtt
    print "| figure | files | sync requests per file | by opcode | native (s) | floor (s) | measured (s) | measured / floor |"
    print "|---|---|---|---|---|---|---|---|"
    for (k = 1; k <= n; k++) {
      f = order[k]
      floor = native[f] + sync[f] * rtt / 1e6
      printf "| %s | %d | %.2f | %s | %.3f | %.3f | %.3f | %.2f× |\n", f, files[f], per[f], ops[f],
             native[f], floor, mine[f], (floor > 0 ? mine[f] / floor : 0)
    }
  }' "$DIR/latest.csv" "$DIR/requests.csv"
