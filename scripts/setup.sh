#!/usr/bin/env bash
# Installs the Debian packages that the build, the tests and the viewer need, when missing.
# Safe to run again: it only calls apt-get when a package is absent.
set -euo pipefail

pkgs=(
  # build: ffmpeg-next links FFmpeg, bindgen needs clang
  pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libavfilter-dev libavdevice-dev libswresample-dev
  # the Python package: a virtual environment to build it into (scripts/python.sh)
  python3 python3-venv
  # tests encode videos with the ffmpeg command
  ffmpeg
  # GPU: Vulkan loader and Mesa's lavapipe software adapter
  libvulkan1 mesa-vulkan-drivers
  # viewer: X11/Wayland client libraries winit loads at run time, and Xvfb for headless runs
  libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0 libwayland-client0
  xvfb xauth
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all system packages present"
fi
