#!/usr/bin/env bash
# Tears down one PR's preview database: first a `pulumi up` in teardown mode runs a Job
# that drops syrf_pr_<N> as the PR's own database user (through the runtime's target
# guard), then `pulumi destroy` removes that user (deleted from Atlas too) and the stack.
# Usage: teardown-preview.sh <PR number>. Needs PULUMI_ACCESS_TOKEN and cluster credentials.
set -euo pipefail

pr="${1:?usage: teardown-preview.sh <PR number>}"
if ! [[ "$pr" =~ ^[1-9][0-9]{0,9}$ ]]; then
  echo "::error::not a PR number: $pr" >&2
  exit 2
fi
stack="pr-$pr"

if ! pulumi stack select "$stack" 2>/dev/null; then
  echo "stack $stack does not exist; nothing to tear down"
  exit 0
fi
pulumi config set --stack "$stack" syrf-db-tools:teardown true
pulumi up --yes --stack "$stack" --policy-pack infra/policy --suppress-progress
pulumi destroy --yes --stack "$stack" --suppress-progress
pulumi stack rm --yes --stack "$stack"
echo "torn down $stack: syrf_pr_$pr dropped, its database user deleted"
