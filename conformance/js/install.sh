#!/usr/bin/env bash
# Install the pinned AWS SDK for JavaScript v3 packages the exec suite uses
# into DIR (a throwaway folder), and fail if node or npm is missing.
#
# Usage: conformance/js/install.sh DIR
set -euo pipefail
readonly SDK_VERSION=3.1178.0
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
command -v node >/dev/null 2>&1 || { echo "error: node is not on PATH; install Node.js 20 or newer" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || { echo "error: npm is not on PATH; install it with Node.js" >&2; exit 2; }
mkdir -p "$1"
cd "$1"
echo '{"private": true}' >package.json
npm install --no-audit --no-fund --silent \
    "@aws-sdk/client-sts@$SDK_VERSION" "@aws-sdk/credential-providers@$SDK_VERSION"
