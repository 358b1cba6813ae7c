#!/usr/bin/env bash
# Validates the AWS SAM template offline, without AWS credentials:
#   sam validate, sam validate --lint (cfn-lint through SAM) and cfn-lint itself,
# on the template as it is (every parameter at its default) and on a copy whose defaults are
# the "set" form of the optional parameters (arm64, no reserved concurrency, alarms to an
# e-mail and to a topic, other throttling limits, LOG_OBJECT_KEYS=false). Neither
# `sam validate` nor `cfn-lint --parameters` can check parameter values of a SAM template
# (cfn-lint drops them when it applies the SAM transform), but cfn-lint checks a Default
# against its parameter's constraints (E2015) and through every !Ref (W1030), so the copy
# is checked as if deployed with those values.
# Each must exit 0 and print no error or warning. Prints one line per check on success;
# on failure prints the failing tool's output and exits 1.
# Usage: scripts/check-deploy-config.sh [template]   (default: template.yaml at the repo root)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
template="${1:-$root/template.yaml}"
venv_bin="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}/venv/bin"

if ! setup_out="$("$root/scripts/setup-python.sh" 2>&1)"; then
  printf '%s\n' "$setup_out" >&2
  echo "FAIL python tools (scripts/setup-python.sh)" >&2
  exit 1
fi
echo "ok   python tools: $(printf '%s' "$setup_out" | awk '{print $2" "$3}' | paste -sd, - | sed 's/,/, /g')"

# Offline and hermetic: no telemetry, a fixed region, no profile lookup.
export PATH="$venv_bin:$PATH"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
unset AWS_PROFILE

# Lines that mean trouble even when a tool exits 0: cfn-lint rule ids (E1234, W1234),
# Python warnings, and the words error/warning/invalid/fail/deprecat.
bad_output='\b[EW][0-9]{4}\b|warn|error|invalid|fail|deprecat'
# SAM's weekly "update available" notice (it asks PyPI) is not about the template.
noise='^(SAM CLI update available|To download: )'

# The set form: parameter=value, written as the Defaults of a JSON copy of the template.
set_form=(
  BucketName=example-bucket
  Architecture=arm64
  ReservedConcurrency=0
  ThrottlingRateLimit=10
  ThrottlingBurstLimit=20
  AlarmEmail=ops@example.com
  AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:presign-alarms
  LogObjectKeys=false
  AuthMaxTokenAge=3600
)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
variant="$work/template-set.json"
if ! variant_out="$("$venv_bin/python" - "$template" "$variant" "${set_form[@]}" 2>&1 <<'PY'
import json
import sys

from cfnlint.decode import decode

source, target, *pairs = sys.argv[1:]
template, matches = decode(source)
if matches or not isinstance(template, dict):
    sys.exit("cannot read the template: " + "; ".join(str(m) for m in matches or []))
parameters = template.get("Parameters", {})
for pair in pairs:
    name, value = pair.split("=", 1)
    if name not in parameters:
        sys.exit(f"the set form names {name}, which the template does not declare")
    numeric = parameters[name].get("Type") == "Number"
    parameters[name]["Default"] = int(value) if numeric else value
with open(target, "w") as f:
    json.dump(template, f, indent=1)
PY
)"; then
  printf '%s\n' "$variant_out" >&2
  echo "FAIL writing the set-form copy of the template" >&2
  exit 1
fi

status=0
check() { # name, expected-success-regex-or-empty, command...
  local name="$1" expect="$2" out rc=0
  shift 2
  out="$("$@" 2>&1)" || rc=$?
  # Drop the notice and blank lines; name the template neutrally so that a path holding
  # a word like "error" cannot fail the check.
  out="$(printf '%s\n' "$out" | grep -Ev "$noise" | sed '/^[[:space:]]*$/d' || true)"
  out="${out//"$template"/<template>}"
  out="${out//"$variant"/<template, set form>}"
  if [ "$rc" -ne 0 ] || printf '%s\n' "$out" | grep -Eqi "$bad_output" \
     || { [ -n "$expect" ] && ! printf '%s\n' "$out" | grep -Eq "$expect"; }; then
    echo "FAIL $name (exit $rc):" >&2
    printf '%s\n' "$out" | sed 's/^/     /' >&2
    status=1
  else
    echo "ok   $name"
  fi
}

rel="${template#"$root"/}"
check "sam validate $rel"        'is a valid SAM Template' sam validate --template "$template"
check "sam validate --lint $rel" 'is a valid SAM Template' sam validate --lint --template "$template"
check "cfn-lint $rel"            ''                        cfn-lint -- "$template"
echo "     set form: ${set_form[*]}"
set_rel="$rel (set form)"
check "sam validate $set_rel"        'is a valid SAM Template' sam validate --template "$variant"
check "sam validate --lint $set_rel" 'is a valid SAM Template' sam validate --lint --template "$variant"
check "cfn-lint $set_rel"            ''                        cfn-lint -- "$variant"

exit "$status"
