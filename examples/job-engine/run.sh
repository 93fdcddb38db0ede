#!/usr/bin/env bash
# Runs the job-engine example: installs Redis from Debian's packages if it is missing,
# starts a private Redis on loopback, builds the example (release), and runs it.
#
#   examples/job-engine/run.sh                     # the figures: 1, 2, 4 workers, then a kill
#   examples/job-engine/run.sh run --kill-one      # one run (any `job-engine run` option)
#
# Environment: REDIS_PORT (default 6390), USERS (default 200000), PAGE_DELAY_MS (default 100).
set -euo pipefail
cd "$(dirname "$0")/../.."

source examples/job-engine/redis.sh
start_redis "${REDIS_PORT:-6390}"
trap stop_redis EXIT

cargo build --release -p accesslink-job-engine-example --quiet
bin=target/release/job-engine
if [ "$#" -eq 0 ]; then
  set -- bench
fi
command="$1"
shift
"$bin" "$command" --redis "$ACCESSLINK_REDIS_URL" \
  --users "${USERS:-200000}" --page-delay-ms "${PAGE_DELAY_MS:-100}" "$@"
