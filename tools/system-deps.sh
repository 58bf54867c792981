#!/bin/sh
# Installs the Debian packages the reports need when they are missing:
# a CJK font (Chinese names in charts) and Chromium (the report's browser test).
set -e
need=""
fc-list 2>/dev/null | grep -qiE 'wqy|noto.*cjk' || need="$need fonts-wqy-microhei"
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "missing Debian packages:$need (install them as root: apt-get install$need)" >&2; exit 1
fi
echo "installing Debian packages:$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
