#!/bin/sh
# bin/weir with 32 TLS handshake slots (Config.MaxTLSHandshakes; the default on 2 cores is 64).
WEIR_MAX_TLS_HANDSHAKES=32 exec "$(dirname "$0")/weir" "$@"
