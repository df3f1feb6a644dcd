#!/usr/bin/env bash
# Draws bench/scale.sh's growth curves from its raw figures (gnuplot, Debian's gnuplot-nox):
#   bench/scale_plot.sh [SCALE_TSV] [OUT_DIR]   (defaults: bench/work-scale/scale.tsv, bench/)
# scale-files.png: wall time and peak RSS against the number of files, velin and restic;
# scale-snapshots.png: wall time and peak RSS against the number of backups in the repository.
# Where a measure was repeated at one size, the plot shows the median.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tsv=${1:-$here/work-scale/scale.tsv}
out=${2:-$here}
command -v gnuplot >/dev/null || { echo "scale_plot.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# series PART TOOL STEP COLUMN: "size median" lines, sorted by size.
series() {
  awk -F'\t' -v part="$1" -v tool="$2" -v step="$3" -v col="$4" \
    'NR > 1 && $1 == part && $3 == tool && $4 == step && $col != "" { print $2, $col }' "$tsv" |
    sort -n -k1,1 -k2,2 |
    awk '{ v[$1] = v[$1] " " $2; n[$1]++ } END { for (s in v) { split(substr(v[s], 2), a, " ");
          print s, a[int((n[s] + 1) / 2)] } }' | sort -n >"$tmp/$1-$2-$3-$4.dat"
  echo "$tmp/$1-$2-$3-$4.dat"
}

plot_part() {  # plot_part PART XLABEL STEPS FILE
  local part=$1 xlabel=$2 steps=$3 file=$4 cmds_t="" cmds_m="" tool step f style color
  for tool in velin restic; do
    local c=1
    for step in $steps; do
      # velin solid, restic dashed; one colour per step.
      style="linecolor $c dashtype $([ "$tool" = velin ] && echo 1 || echo 2) pointtype $([ "$tool" = velin ] && echo 7 || echo 6)"
      c=$((c + 1))
      f=$(series "$part" "$tool" "$step" 5)
      [ -s "$f" ] && cmds_t+="'$f' using 1:2 with linespoints $style title '$tool $step', "
      f=$(series "$part" "$tool" "$step" 8)
      [ -s "$f" ] && cmds_m+="'$f' using 1:(\$2 / 1024) with linespoints $style title '$tool $step', "
    done
  done
  if [ "$part" = files ]; then
    f=$(series files floor lstat 5)
    [ -s "$f" ] && cmds_t+="'$f' using 1:2 with linespoints linecolor 8 dashtype 3 title 'lstat floor (du -s)', "
  fi
  [ -n "$cmds_t" ] || { echo "scale_plot.sh: no $part figures in $tsv" >&2; return 0; }
  gnuplot <<EOF
set terminal pngcairo size 1400,560 font ",10"
set output "$out/$file"
set multiplot layout 1,2
set grid
set key top left
set logscale xy
set xlabel "$xlabel"
set ylabel "wall time (s)"
set title "time"
plot ${cmds_t%, }
set ylabel "peak RSS (MiB)"
set title "memory"
plot ${cmds_m%, }
unset multiplot
EOF
  echo "wrote $out/$file" >&2
}

plot_part files "files (1-8 KiB each)" "first nochange restore" scale-files.png
plot_part snapshots "backups in the repository" "create list status forget prune verify" scale-snapshots.png
