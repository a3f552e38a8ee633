# Sourced by bench/run.sh: the FUSE requests each metadata figure cost per
# file, from the mount's live statistics (passthroughfs stats), and the
# floor they put under it on this machine.
#
#   requests_begin TARGET            before a figure
#   requests_end TARGET FIGURE FILES after it: appends a row to $REQUESTS
#
# A row: figure, files, requests per file by opcode; then the synchronous
# ones (the caller waits for their answer: not FORGET, RELEASE and the like,
# which the kernel sends in the background) per file.

STATS_BIN=${STATS_BIN:-build/release/src/passthroughfs/passthroughfs}

requests_begin() {
  "$STATS_BIN" stats "${DIR_OF[$1]}" > "$WORK/requests-before.txt" 2>/dev/null || : > "$WORK/requests-before.txt"
}

requests_end() {  # target figure files
  "$STATS_BIN" stats "${DIR_OF[$1]}" > "$WORK/requests-after.txt" 2>/dev/null || return 0
  awk -v fig="$2" -v files="$3" -v target="$1" '
    function requests(line,   i, kv) {
      for (i = 3; i <= NF; i++) if ($i ~ /^requests=/) { split($i, kv, "="); return kv[2] }
      return 0
    }
    FNR == NR { if ($1 == "opcode") before[$2] = requests($0); next }
    $1 == "opcode" {
      d = requests($0) - before[$2]
      if ($2 == "GETXATTR") d--  # the "after" reading itself
      if (d <= 0) next
      n++; op[n] = $2; count[n] = d
      if ($2 !~ /^(FORGET|BATCH_FORGET|RELEASE|RELEASEDIR|INTERRUPT)$/) sync += d
    }
    END {
      # most first
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (count[j] > count[i]) { t = count[i]; count[i] = count[j]; count[j] = t; t = op[i]; op[i] = op[j]; op[j] = t }
      by = ""
      for (i = 1; i <= n; i++) by = by sprintf("%s%s %.2f", i > 1 ? ", " : "", op[i], count[i] / files)
      printf "%s,%s,%s,%d,%.2f,%s\n", fig, target, files, sync, sync / files, by
    }' "$WORK/requests-before.txt" "$WORK/requests-after.txt" >> "$REQUESTS"
}
