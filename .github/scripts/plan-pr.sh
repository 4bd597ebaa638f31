#!/usr/bin/env bash
# plan-pr.sh: validate and plan the intent change of a pull request, and write
# the plan as JSON (for tools, uploaded as an artifact) and as markdown (the
# pull request comment).
#
# The reusable workflow .github/workflows/netrecon-plan.yml runs in the
# CALLER's repository, where this file does not exist, so its "plan" step
# carries a verbatim copy of the lines between BEGIN and END below.
# forge/github/workflow_sync_test.go fails when the two differ: edit both.
#
# Environment:
#   NETRECON    the netrecon binary (default: netrecon on PATH)
#   INTENT_DIR  the intent repo, or a folder of it (default: .)
#   BASE_SHA    the pull request's base commit (required)
#   HEAD_SHA    the pull request's head commit (required)
#   OUT_DIR     where plan.json and plan.md go (required)
#   GITHUB_STEP_SUMMARY  when set (in Actions), plan.md is appended to it
#   NETRECON_CACHE_DIR   netrecon's document cache (docs/cache.md); the
#               workflow points it at the folder actions/cache restores
#
# Output: validate's findings as GitHub annotations on standard output;
# OUT_DIR/plan.json and OUT_DIR/plan.md. When the intent does not validate or
# planning fails, plan.md still begins with the marker and says so, so the
# pull request's comment never shows a stale plan.
#
# Exit status: 0 planned (changes or none), 1 invalid intent or failure.

# BEGIN plan steps
set -euo pipefail
: "${NETRECON:=netrecon}" "${INTENT_DIR:=.}"
: "${BASE_SHA:?the pull request base commit}" "${HEAD_SHA:?the pull request head commit}" "${OUT_DIR:?the output folder}"
mkdir -p "$OUT_DIR"
marker='<!-- netrecon-plan -->'
# fail writes a plan.md that says why there is no plan, then stops.
fail() {
  printf '%s\n### netrecon plan: %s\n\n%s\n' "$marker" "$1" "$2" > "$OUT_DIR/plan.md"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$OUT_DIR/plan.md" >> "$GITHUB_STEP_SUMMARY"; fi
  echo "::error::netrecon plan: $1"
  exit 1
}

# Plan what the pull request changes: from the commit where it left the base
# branch. Planning from the base branch's newest commit instead would show
# every change merged there since as reverted by this pull request.
base=$(git -C "$INTENT_DIR" merge-base "$BASE_SHA" "$HEAD_SHA") ||
  fail "no common ancestor" "The base ${BASE_SHA} and head ${HEAD_SHA} share no history (is the checkout shallow? use fetch-depth: 0)."

# Validate first: the schemas, the cross-document checks, rendering, and the YANG
# check of the rendered configuration against the repo's schemas/ (written by
# `netrecon schemas fetch`). Each finding becomes an annotation on its file.
status=0
"$NETRECON" validate "$INTENT_DIR" --output github || status=$?
if [ "$status" -ne 0 ]; then
  fail "the intent does not validate" "Commit ${HEAD_SHA} has errors (exit ${status}): see the annotations on the files and the job log. No plan was made."
fi

# plan exits 0 for no changes and 2 for changes; both are success here.
status=0
"$NETRECON" plan "$INTENT_DIR" --base "$base" --head "$HEAD_SHA" --output json > "$OUT_DIR/plan.json" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
  fail "planning failed" "netrecon plan exited ${status} for ${base}..${HEAD_SHA}: see the job log."
fi
status=0
"$NETRECON" plan "$INTENT_DIR" --base "$base" --head "$HEAD_SHA" --output markdown > "$OUT_DIR/plan.md" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
  fail "planning failed" "netrecon plan exited ${status} for ${base}..${HEAD_SHA}: see the job log."
fi
# The job summary keeps the whole plan even when the comment is cut (1 MiB cap).
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then head -c 1000000 "$OUT_DIR/plan.md" >> "$GITHUB_STEP_SUMMARY"; fi
echo "plan written to $OUT_DIR/plan.md and $OUT_DIR/plan.json"
# END plan steps
