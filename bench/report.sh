# The Markdown report of bench/compare.sh (sourced by it; uses its arrays wall, cpu, rss, repo,
# status and the variables TOOLS, STEPS, WORK, VELIN, VELIN_STRATEGY).

step_name() {
  case $1 in
    first) echo "first backup" ;;
    nochange) echo "no-change backup" ;;
    changed) echo "backup after 1 % change" ;;
    restore) echo "restore (latest)" ;;
    verify) echo "verify / check (read all data)" ;;
  esac
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# ratio A B: A / B with two decimals, "-" when either is missing or B is 0.
ratio() {
  if [ -z "$1" ] || [ -z "$2" ]; then echo "-"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# target LABEL AWK-EXPRESSION A [B]: a table row saying whether the expression over a and b: "yes"/"no"/"-" for a target.
target() {
  local label=$1 expr=$2
  shift 2
  for v in "$@"; do
    if [ -z "$v" ] || [ "$v" = "-" ]; then echo "| $label | - |"; return; fi
  done
  if awk -v a="$1" -v b="${2:-0}" "BEGIN { exit !($expr) }"; then
    echo "| $label | met |"
  else
    echo "| $label | **missed** |"
  fi
}

tool_versions() {
  local v
  for tool in $TOOLS; do
    case $tool in
      velin) v="$("$VELIN" --version 2>/dev/null | head -1) ($(git -C "$here" describe --always --dirty 2>/dev/null || echo '?')), zstd 3, strategy full then $VELIN_STRATEGY" ;;
      restic) v="$(restic version | head -1), repository v2 (compression auto)" ;;
      borg) v="$(borg --version), --encryption none, lz4 (default)" ;;
    esac
    echo "- $v"
  done
}

report() {
  echo "# Backup tools compared on one dataset, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
  echo "$(free -g | awk '/Mem:/ { print $2 }') GiB memory, shared with other work (expect noise; the ratios of one run count)."
  echo "Dataset and change (bench/make_dataset.sh, bench/mutate.sh):"
  echo
  sed 's/^/    /' "$WORK/dataset.txt"
  echo
  echo "Tools, each with its defaults, all on local disk, page cache warm:"
  echo
  tool_versions
  echo
  echo "| step | tool | wall s | CPU s | peak RSS MiB | repository MiB |"
  echo "|---|---|---:|---:|---:|---:|"
  for step in $STEPS; do
    for tool in $TOOLS; do
      local k=$tool:$step
      [ -n "${wall[$k]:-}" ] || { echo "| $(step_name "$step") | $tool | - | - | - | - |"; continue; }
      echo "| $(step_name "$step") | $tool | ${wall[$k]} | ${cpu[$k]} | ${rss[$k]} | $(mib "${repo[$k]}") |"
    done
  done
  echo
  for tool in $TOOLS; do
    [ "${status[$tool]}" = ok ] || echo "**$tool: ${status[$tool]}**"
  done
  [[ " $TOOLS " == *" velin "* ]] || return 0
  echo
  echo "velin's ratio to each peer (velin ÷ peer; below 1 means velin needs less):"
  echo
  local peers=""
  for tool in $TOOLS; do [ "$tool" = velin ] || peers="$peers $tool"; done
  local head="| step |" line="|---|"
  for p in $peers; do head="$head wall ÷ $p | CPU ÷ $p | RSS ÷ $p |"; line="$line---:|---:|---:|"; done
  echo "$head"
  echo "$line"
  for step in $STEPS; do
    local row="| $(step_name "$step") |"
    for p in $peers; do
      row="$row $(ratio "${wall[velin:$step]:-}" "${wall[$p:$step]:-}") | $(ratio "${cpu[velin:$step]:-}" "${cpu[$p:$step]:-}") | $(ratio "${rss[velin:$step]:-}" "${rss[$p:$step]:-}") |"
    done
    echo "$row"
  done
  local row="| repository size after 3 backups |"
  for p in $peers; do row="$row $(ratio "${repo[velin:changed]:-}" "${repo[$p:changed]:-}") | | |"; done
  echo "$row"
  echo
  local max_rss=0
  for step in $STEPS; do
    [ -n "${rss[velin:$step]:-}" ] && [ "${rss[velin:$step]}" -gt "$max_rss" ] && max_rss=${rss[velin:$step]}
  done
  echo "Targets of issue 4:"
  echo
  echo "| target | result |"
  echo "|---|---|"
  target "first backup ≤ 0.5 × restic's wall time" 'a <= 0.5 * b' \
    "${wall[velin:first]:-}" "${wall[restic:first]:-}"
  target "no-change backup ≤ 0.2 × restic's and < 0.5 s" 'a <= 0.2 * b && a < 0.5' \
    "${wall[velin:nochange]:-}" "${wall[restic:nochange]:-}"
  target "restore ≤ 0.5 × restic's wall time" 'a <= 0.5 * b' \
    "${wall[velin:restore]:-}" "${wall[restic:restore]:-}"
  target "peak RSS < 100 MB (max over steps: ${max_rss} MiB)" 'a * 1048576 < 100000000' \
    "$max_rss"
  target "repository no larger than restic's" 'a <= b' \
    "${repo[velin:changed]:-}" "${repo[restic:changed]:-}"
}
