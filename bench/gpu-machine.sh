#!/usr/bin/env bash
# gradlab vs PyTorch (and TensorFlow.js) on the GPU machine, in one command.
#
# Here (has Go, network):   bench/gpu-machine.sh prepare
#   builds bench/out/gradbench (x86-64, cgo, wgpu-native inside), copies the
#   peer scripts, and fetches the Vulkan loader packages into .gl/ (see
#   shared/notes/platform.md). Then run, through the device tool, carrying
#   .gl and bench/out (and .peer for TensorFlow.js, made by
#   shared/bench/tfjs/pack-for-gpu.sh):
#
# There (no Go, no network): bash bench/gpu-machine.sh run
#   runs gradlab's benchmark and torch_reference.py back to back in the same
#   command, then prints our/PyTorch ratios; with .peer present, TF.js too.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out

prepare() {
	mkdir -p "$OUT"
	go build -o "$OUT/gradbench" ./bench
	cp ../shared/bench/torch_reference.py "$OUT/" 2>/dev/null || cp /work/shared/bench/torch_reference.py "$OUT/"
	if [ ! -d .gl ]; then
		grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >>.git/info/exclude
		mkdir -p .gl /tmp/amd64/partial
		local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
		apt-get $o update >/dev/null
		(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
	fi
	echo "ready: carry .gl and $OUT (and .peer for TF.js); on the GPU machine run: bash bench/gpu-machine.sh run"
}

run() {
	for f in .gl/*.deb; do dpkg -x "$f" /; done
	ldconfig
	export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_RUNTIME_DIR=/tmp
	local res=${OUT_DIR:-${OUT}}
	rm -f "$res/ours.jsonl" "$res/torch.jsonl" "$res/tfjs.jsonl"
	echo "== gradlab"
	"$OUT/gradbench" -json "$res/ours.jsonl" -reps 7
	echo "== PyTorch (f32, TF32 off)"
	python3 "$OUT/torch_reference.py" --json "$res/torch.jsonl" >/dev/null
	if [ -d .peer ]; then
		echo "== TensorFlow.js webgpu"
		export VK_ICD_FILENAMES=$VK_DRIVER_FILES
		xz -dc .peer/node.xz >/tmp/node && chmod +x /tmp/node && tar -xJf .peer/nm.tar.xz -C .peer
		(cd .peer && /tmp/node bench.mjs --backend webgpu --bench train --batches 128,512 --budget 60 --json "$PWD/../$res/tfjs.jsonl" | grep RESULT) || true
	fi
	echo "== PyTorch / gradlab time (above 1: gradlab is faster)"
	"$OUT/gradbench" -compare "$res/torch.jsonl" "$res/ours.jsonl"
}

case "${1:-}" in
prepare) prepare ;;
run) run ;;
*) echo "usage: bench/gpu-machine.sh prepare|run" >&2; exit 2 ;;
esac
