#!/usr/bin/env bash
# passthroughfs(8) and `passthroughfs --help` name the same options: every
# -o option and flag of --help has an item in the man page's OPTIONS, and
# every item there is in --help. Also: the man pages format without a
# groff warning.
#   man_test.sh PASSTHROUGHFS MANDIR
set -euo pipefail
bin=$1
mandir=$2
fail=0

for page in "$mandir"/passthroughfs.8 "$mandir"/fusekit.3; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  if [ -n "$warnings" ]; then echo "groff warns on $page: $warnings"; fail=1; fi
done

help=$("$bin" --help)
# The -o description: "... options: mount options (a, b=, ...) and c=x|y, d"
help_o=$(printf '%s\n' "$help" | sed -n 's/^ *-o TEXT \.\.\. *comma-separated options: //p' |
  sed "s/mount options (//; s/) and /, /; s/; bindfs's /, /" | tr ',' '\n' |
  sed 's/^ *//; s/[=|].*//' | grep -v '^$' | sort -u)
help_flags=$(printf '%s\n' "$help" | grep -oE '^ +-[a-zA-Z](,--[a-z-]+)?' | tr ',' '\n' |
  sed 's/^ *//' | grep -vx -- '-o' | sort -u)
[ -n "$help_o" ] && [ -n "$help_flags" ] || { echo "cannot read the options from --help"; exit 1; }

# The items of OPTIONS, as groff lays them out: tags at 7 columns (a
# paragraph's lines there have spaces between words; tags do not).
items=$(MANWIDTH=200 groff -man -Tascii -P-cbou -rLL=200n "$mandir/passthroughfs.8" 2>/dev/null |
  sed -n '/^OPTIONS/,/^STATISTICS/p' | sed -E '/^ {7}Options +that/,$d' | grep -E '^ {7}[^ ]' |
  sed -E 's/^ {7}//; s/ {2,}.*//' | sed 's/ | /, /g; s/, /,/g' | grep -v ' ' | tr ',' '\n' |
  sed 's/^ *//; s/[=|].*//' |
  grep -v '^$' | sort -u)
man_flags=$(printf '%s\n' "$items" | grep '^-' || true)
man_o=$(printf '%s\n' "$items" | grep -v '^-' || true)

missing_in_man=$(comm -23 <(printf '%s\n' "$help_o" "$help_flags" | sort -u) \
  <(printf '%s\n' "$man_o" "$man_flags" | sort -u))
# The man page may name the negations and variants --help folds into one
# (suid for nosuid, atime for noatime...) only in an item's text, so only
# its tags count.
missing_in_help=$(comm -13 <(printf '%s\n' "$help_o" "$help_flags" | sort -u) \
  <(printf '%s\n' "$man_o" "$man_flags" | sort -u))
if [ -n "$missing_in_man" ]; then echo "in --help, not in passthroughfs(8):" $missing_in_man; fail=1; fi
if [ -n "$missing_in_help" ]; then echo "in passthroughfs(8), not in --help:" $missing_in_help; fail=1; fi
[ $fail = 0 ] && echo "passthroughfs(8) and --help agree on $(printf '%s\n' "$help_o" | wc -l) -o options and $(printf '%s\n' "$help_flags" | wc -l) flags"
exit $fail
