#!/usr/bin/env bash
# Installs the Debian packages sluice builds against, when they are missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libzstd-dev libsnappy-dev zlib1g-dev
      libyaml-dev libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev
      libxxhash-dev libpcre2-dev libsqlite3-dev libpq-dev libssl-dev libcmocka-dev
      libyajl-dev libpg-query-dev libgraphviz-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		echo "error: missing Debian packages (${missing[*]}); run as root or: sudo apt-get install ${missing[*]}" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
