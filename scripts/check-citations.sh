#!/usr/bin/env bash
# Checks that every citation of the domain document resolves.
#
# A citation is `docs/domain.md §X` (or `domain.md §X`) in a *.rs, *.md, *.ts or *.vue file of
# the repository (node_modules, target and .git left out); every further § token on the same line
# after the first citation counts too (`§1.5, §3`, `§1.5 / §6.B`). §X resolves when docs/domain.md
# has a heading numbered X: `## 7. …` for §7, `### 1.5 …` for §1.5, `### 6.C …` for §6.C.
# A mention of DOMAIN.md (the research notes this document replaced) is always an error.
#
# Prints `FILE:LINE: …` for each problem and exits 1; otherwise prints the number checked.
# Needs only bash, grep, sed and awk.
set -euo pipefail
cd "$(dirname "$0")/.."

export LC_ALL=C # byte-wise matching; § is the two bytes C2 A7 in UTF-8
SECT=$'\302\247'
DOC=docs/domain.md

if [ ! -f "$DOC" ]; then
  echo "$DOC: missing" >&2
  exit 1
fi

# The section numbers the document defines, space-separated (headings inside ``` blocks ignored).
sections=$(awk '
  /^[ \t]*```/ { fence = !fence; next }
  fence { next }
  /^#+[ \t]+[0-9]/ {
    s = $0
    sub(/^#+[ \t]+/, "", s)
    if (match(s, /^[0-9]+(\.[0-9A-Za-z]+)*/)) {
      n = substr(s, 1, RLENGTH)
      rest = substr(s, RLENGTH + 1)
      if (rest == "" || rest ~ /^\.?[ \t]/ || rest == ".") printf "%s ", n
    }
  }
' "$DOC")

# Every line of the sources that mentions the document, old or new name.
hits=$(grep -rnI \
  --include='*.rs' --include='*.md' --include='*.ts' --include='*.vue' \
  --exclude-dir=node_modules --exclude-dir=target --exclude-dir=.git \
  -e 'domain\.md' -e 'DOMAIN\.md' . || true)

printf '%s\n' "$hits" | awk -v S="$SECT" -v SECTIONS="$sections" '
  BEGIN {
    k = split(SECTIONS, list, " ")
    for (i = 1; i <= k; i++) if (list[i] != "") have[list[i]] = 1
    cite = "domain\\.md[ \t]*" S
    token = S "[0-9]+(\\.[0-9A-Za-z]+)*"
    checked = 0; bad = 0
  }
  $0 == "" { next }
  {
    # grep -n output: ./path:line:text
    line = $0
    p = index(line, ":"); file = substr(line, 1, p - 1); line = substr(line, p + 1)
    p = index(line, ":"); lno = substr(line, 1, p - 1); text = substr(line, p + 1)
    sub(/^\.\//, "", file)

    rest = text
    while ((p = index(rest, "DOMAIN.md")) > 0) {
      printf "%s:%s: cites DOMAIN.md, which is not in the repository\n", file, lno
      bad++
      rest = substr(rest, p + 9)
    }

    if (!match(text, cite)) next
    rest = substr(text, RSTART)
    while (match(rest, token)) {
      x = substr(rest, RSTART + length(S), RLENGTH - length(S))
      checked++
      if (!(x in have)) {
        printf "%s:%s: cites docs/domain.md %s%s, no such section\n", file, lno, S, x
        bad++
      }
      rest = substr(rest, RSTART + RLENGTH)
    }
  }
  END {
    if (bad > 0) {
      printf "citations: %d checked, %d problem(s)\n", checked, bad
      exit 1
    }
    printf "citations: %d checked, all resolve\n", checked
  }
'
