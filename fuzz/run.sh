#!/usr/bin/env bash
# Fuzz pingan's readers (issue 23; see fuzz/README.md).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Installs cargo-fuzz (and the nightly toolchain) if missing, builds every
# target, then runs each target (all of them unless some are named) for
# SECONDS (default 600), one after another, from fuzz/seeds/<target> into
# the scratch corpus fuzz/corpus/<target>, after replaying the inputs that
# once broke it (fuzz/crashes/<target>/). Exits 1 if any target crashed,
# timed out or ran out of memory (the input is in fuzz/artifacts/<target>/),
# 2 if the build failed. Everything runs under `nice -n 19`; set
# PINGAN_FUZZ_NICE=0 to run at normal priority. Extra libFuzzer flags can be
# given in PINGAN_FUZZ_FLAGS (e.g. "-jobs=2 -workers=2").
set -uo pipefail
cd "$(dirname "$0")"

secs=${1:-600}
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -eq 0 ]; then
  echo "usage: fuzz/run.sh [SECONDS] [TARGET...]   (SECONDS > 0, default 600)" >&2
  exit 2
fi

nice=(nice -n 19)
[ "${PINGAN_FUZZ_NICE:-1}" = "0" ] && nice=()

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "== installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal || exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  "${nice[@]}" cargo install cargo-fuzz --locked || exit 2
fi
cargo fuzz --version
rustc +nightly --version

echo "== cargo +nightly fuzz build"
start=$(date +%s)
"${nice[@]}" cargo +nightly fuzz build || { echo "fuzz build failed" >&2; exit 2; }
echo "built in $(( $(date +%s) - start )) s"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

mkdir -p logs
failed=()
summary=()
for t in "${targets[@]}"; do
  if [ ! -d "seeds/$t" ]; then
    echo "no seeds/$t: unknown target?" >&2
    failed+=("$t")
    continue
  fi
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(find "artifacts/$t" -type f | wc -l)
  # Inputs that once broke this target (fuzz/crashes/<target>/) must not
  # break it again: each is run once before fuzzing.
  shopt -s nullglob
  old=(crashes/"$t"/*)
  shopt -u nullglob
  if [ "${#old[@]}" -gt 0 ]; then
    if "${nice[@]}" cargo +nightly fuzz run "$t" "${old[@]}" -- \
      -rss_limit_mb=2048 -timeout=30 >"logs/$t.crashes.log" 2>&1; then
      echo "$t: the ${#old[@]} input(s) in crashes/$t pass"
    else
      echo "$t: an input in crashes/$t breaks it again (logs/$t.crashes.log):"
      grep -E 'Running:|panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY' "logs/$t.crashes.log" | head -n 6
      failed+=("$t(crashes/)")
    fi
  fi
  echo "== $t: ${secs} s"
  # shellcheck disable=SC2086  # PINGAN_FUZZ_FLAGS is a list of flags
  "${nice[@]}" cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 \
    -print_final_stats=1 ${PINGAN_FUZZ_FLAGS:-} >"logs/$t.log" 2>&1
  rc=$?
  # With -fork=N -ignore_crashes=1 (say) libFuzzer can exit 0 after saving
  # crashes: a new file under artifacts/ fails the target too.
  new=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
  [ "$new" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
  # The last status line (#N DONE / a crash) and the final statistics.
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -n 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "logs/$t.log" | tail -n 1)
  line="$t: exit $rc, ${execs:-?} execs, peak ${rss:-?} MB, $new new artifact(s) | $last"
  summary+=("$line")
  echo "$line"
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY|Test unit written' "logs/$t.log" | head -n 8
  fi
done

echo "== summary (logs in fuzz/logs/)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]} (inputs in fuzz/artifacts/<target>/; reproduce with" \
    "cargo +nightly fuzz run <target> <file>, minimise with cargo +nightly fuzz tmin <target> <file>)" >&2
  exit 1
fi
echo "no crashes"
