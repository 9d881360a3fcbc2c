#!/usr/bin/env bash
# Installs what the test suites run against: PostgreSQL 15, Node.js and the
# npm test tools pinned in package-lock.json.
set -euo pipefail
pkgs=(postgresql-15 nodejs npm sqlite3 procps zstd gzip time chromium)
missing=()
for p in "${pkgs[@]}"; do
	if [[ $p == nodejs || $p == npm ]]; then
		command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue
	fi
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cd "$(dirname "$0")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules ]]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
