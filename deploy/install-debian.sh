#!/bin/sh
# CXM's servers from Debian's own packages (Debian 12 "bookworm" or later), as root:
#
#     deploy/install-debian.sh
#
# PostgreSQL with pg_trgm and unaccent (postgresql, postgresql-contrib), pgvector, redis-server, and the
# libraries and tesseract packs that the OCR of image attachments uses.
# Where Debian has a pgvector package for its PostgreSQL (postgresql-17-pgvector on Debian 13), it is
# installed; Debian 12 has none for its PostgreSQL 15, so pgvector is built from Debian's own pgvector
# source package (taken from the next release, through the mirror this machine already uses) against
# postgresql-server-dev-15, and installed into PostgreSQL 15 with `make install`.
# It starts no server of its own; then run deploy/dba-setup.sh for each database.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }

apt-get update -qq
apt_install postgresql postgresql-contrib redis-server
# OpenCV's libraries for the OCR of image attachments (rapidocr-onnxruntime → opencv-python), and
# tesseract with the packs of the scripts RapidOCR cannot read (Cyrillic, Arabic, Devanagari).
apt_install libgl1 libglib2.0-0 tesseract-ocr tesseract-ocr-rus tesseract-ocr-ara tesseract-ocr-hin
major=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if [ -e "/usr/share/postgresql/$major/extension/vector.control" ]; then
    echo "pgvector is already installed for PostgreSQL $major"
    exit 0
fi
if apt-cache policy "postgresql-$major-pgvector" | grep -q 'Candidate: [0-9]'; then
    apt_install "postgresql-$major-pgvector"
    echo "installed postgresql-$major-pgvector"
    exit 0
fi

echo "no pgvector package for PostgreSQL $major: building it from Debian's pgvector source package"
apt_install "postgresql-server-dev-$major" build-essential dpkg-dev
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
mirror=$(apt-cache policy | awk -v suite="$codename/main" '$3 == suite && $2 ~ /^https?:/ { print $2; exit }')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
chown _apt "$work/src" 2>/dev/null || true  # apt downloads as its own unprivileged user
echo "deb-src $mirror trixie main" >"$work/sources.list"
# A private source list and cache: the machine's own apt configuration is left as it was.
private="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null \
 -o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache"
# shellcheck disable=SC2086
apt-get $private update -qq
# shellcheck disable=SC2086
(cd "$work/src" && apt-get $private source -qq pgvector >/dev/null)
cd "$work"/src/pgvector-*/
# OPTFLAGS empty: no -march=native, so the library runs on any x86-64 (as Debian builds it).
make -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS="" with_llvm=no >/dev/null
make -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS="" with_llvm=no install >/dev/null
echo "built and installed pgvector $(basename "$PWD" | sed 's/^pgvector-//') for PostgreSQL $major"
