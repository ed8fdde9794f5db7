#!/usr/bin/env sh
# Builds the fuzz corpora from the checked-in seeds plus, when present, the real-world
# policies in ../shared (which may not be copied into this repository).
set -eu
cd "$(dirname "$0")"
for target in hujson_parse fmt_roundtrip; do
	mkdir -p "corpus/$target"
	cp corpus/seed/* "corpus/$target/"
	if [ -d ../../shared/realworld-policies ]; then
		cp ../../shared/realworld-policies/*.hujson "corpus/$target/"
	fi
done
echo "corpora ready in fuzz/corpus/{hujson_parse,fmt_roundtrip}"
