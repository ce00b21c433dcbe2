#!/bin/sh
# toolchain.sh CC — makes sure CC can build a libFuzzer harness. If it cannot and we are root on
# Debian, installs clang and the fuzzer runtime of clang's version; otherwise says what to install.
cc=${1:-clang}

probe() {
    dir=$(mktemp -d) || return 1
    printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' > "$dir/probe.c"
    "$cc" -fsanitize=fuzzer,address,undefined -o "$dir/probe" "$dir/probe.c" >/dev/null 2>&1
    ok=$?
    rm -rf "$dir"
    return $ok
}

probe && exit 0

major=$("$cc" --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
pkgs="clang${major:+ libclang-rt-$major-dev}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fuzz: $cc cannot build a libFuzzer harness; installing $pkgs"
    apt-get update -qq && apt-get install -y -qq $pkgs >/dev/null || exit 1
    if [ -z "$major" ]; then # clang was missing: its runtime's package is named after its version
        major=$("$cc" --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
        [ -n "$major" ] && apt-get install -y -qq "libclang-rt-$major-dev" >/dev/null
    fi
    probe && exit 0
fi
echo "fuzz: $cc cannot build a libFuzzer harness (-fsanitize=fuzzer)." >&2
echo "fuzz: install clang and its fuzzer runtime, e.g. as root: apt-get install clang libclang-rt-${major:-<clang version>}-dev" >&2
exit 1
