#!/usr/bin/env bash
# Replace the pinned copy of Twilio's OpenAPI specs in test/twilio-oai/ with another revision
# of github.com/twilio/twilio-oai. Needs network access; nothing else in the repository does.
#   scripts/refresh-twilio-oai.sh <commit>
set -euo pipefail
commit=${1:?usage: scripts/refresh-twilio-oai.sh <twilio-oai commit SHA>}
cd "$(dirname "$0")/../test/twilio-oai"
base="https://raw.githubusercontent.com/twilio/twilio-oai/${commit}"
for spec in twilio_api_v2010 twilio_messaging_v1 twilio_bulkexports_v1 twilio_accounts_v1; do
  curl --fail --silent --show-error -o "${spec}.json.new" "${base}/spec/json/${spec}.json"
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "${spec}.json.new"
  mv "${spec}.json.new" "${spec}.json"
done
curl --fail --silent --show-error -o LICENSE "${base}/LICENSE"
sha256sum ./*.json LICENSE | sed 's# \./# #' > SHA256SUMS
sed -i "s/^- Commit: .*/- Commit: \`${commit}\` (refreshed $(date -u +%Y-%m-%d))/" README.md
echo "test/twilio-oai now holds twilio-oai ${commit}; run npm test to see what changed."
