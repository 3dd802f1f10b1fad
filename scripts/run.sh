#!/usr/bin/env bash
# Installs what is missing, builds iamd and iamctl, and starts iamd in the
# foreground on 127.0.0.1:7730 with its RocksDB in ./data and the sample
# factory policy from policy/. The first start creates the admin person
# "admin" (override with IAM_ADMIN). Extra arguments go to iamd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
bazel build //services/iamd:iamd //admin:iamctl
exec bazel-bin/services/iamd/iamd \
  --listen=127.0.0.1:7730 \
  --data_dir=data \
  --policy_dir=policy \
  --bootstrap_admin="${IAM_ADMIN:-admin}" "$@"
