#!/usr/bin/env bash
# Installs what building the RocksDB state backend (cargo feature `rocksdb` of weir-state)
# needs besides a C++ compiler: libclang, which bindgen loads to generate the bindings of
# librocksdb-sys. Does nothing when libclang is already there.
set -euo pipefail

has_libclang() {
    ldconfig -p 2>/dev/null | grep -q 'libclang\(-[0-9.]*\)\?\.so ' ||
        compgen -G '/usr/lib/llvm-*/lib/libclang.so' >/dev/null
}

if has_libclang && command -v c++ >/dev/null; then
    exit 0
fi
echo "installing libclang-dev and a C++ compiler for the RocksDB backend" >&2
apt-get update -qq
apt-get install -y -qq libclang-dev clang g++ >/dev/null
