#!/usr/bin/env bash
# Fails unless every glibc symbol version FILE needs is at most VERSION:
# the oldest glibc the shared library loads on.   usage: glibc-at-most.sh 2.17 FILE...
set -euo pipefail
limit=$1; shift
for file in "$@"; do
  newest=$(objdump -T "$file" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  if [ "$(printf '%s\n%s\n' "$limit" "$newest" | sort -V | tail -1)" != "$limit" ]; then
    echo "$file needs glibc $newest, above $limit" >&2
    exit 1
  fi
  echo "$file: newest glibc symbol $newest (at most $limit)"
done
