# Sourced by compare.sh and scale.sh: ext4 pays for creating files right after `rm -rf` of a
# large tree (bench/README.md), so every delete is synced and marked (`deleted`) and a timed
# run waits until SETTLE seconds have passed since the last one (`settle`).
last_delete=0
deleted() { sync; last_delete=$(date +%s); }
settle() {
  local wait=$((last_delete + SETTLE - $(date +%s)))
  if [ "$wait" -gt 0 ]; then
    echo "  (waiting ${wait}s after the last delete)" >&2
    sleep "$wait"
  fi
}
