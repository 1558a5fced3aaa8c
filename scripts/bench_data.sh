#!/usr/bin/env bash
# Makes the load-benchmark inputs in bench-data/ (ignored by git):
# 600 JPEG frames of 1280 x 720 and a 600-frame 1080p H.264 video.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench-data/jpg
if [ ! -f bench-data/jpg/0600.jpg ]; then
  ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t" \
    -frames:v 600 -q:v 3 -start_number 1 bench-data/jpg/%04d.jpg
fi
if [ ! -f bench-data/v1080.mp4 ]; then
  ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=8:allf=t" \
    -frames:v 600 -c:v libx264 -preset fast -g 60 -pix_fmt yuv420p bench-data/v1080.mp4
fi
ls -la bench-data | head
