#!/bin/sh
# Regenerates kb/wordnet/en.tsv.gz (the WordNet relations the FAQ matcher ships, see kb/wordnet.go)
# from a WordNet 3.0 database folder, by default Debian's: apt-get install wordnet-base.
set -eu
dir=${1:-/usr/share/wordnet}
cd "$(dirname "$0")/.."
KB_WORDNET_GEN="$dir" go test -count=1 -run '^TestWordNetTable$' ./kb
