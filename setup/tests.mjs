// What `npm test` needs of the host beyond `npm start`: the system packages the
// integration tests drive for real, and Nix configured as nix/setup-host.sh leaves it.
import { ensureAptPackages, ensureNixConfigured, ensureNodeModules } from "./host.mjs";

// Registry clients (skopeo, podman with runc, containerd, umoci, and the Docker engine and
// CLI: docker.io, whose dockerd the tests run privately), compressors for baselines,
// OpenStack Swift as a real S3 API, the CNCF registry as a benchmark peer, Chromium for the
// landing page, wrk for the serve bench. Nix and busybox come with nix/setup-host.sh.
export const TEST_PACKAGES = [
  "git", "ca-certificates", "pigz", "zstd", "skopeo", "podman", "runc", "umoci", "containerd",
  "docker.io", "swift", "swift-proxy", "swift-account", "swift-container", "swift-object",
  "python3-swift", "docker-registry", "chromium", "wrk",
];

/** Installs or checks everything the tests need; throws a SetupError saying what to run. */
export function setUpForTests(say) {
  ensureNodeModules(say);
  ensureAptPackages(TEST_PACKAGES, say);
  // --arm64: the arm64 tests build aarch64-linux and run its images under qemu-user
  // (qemu-user-static, its binfmt entry, Nix's extra-platforms, an arm64 busybox).
  ensureNixConfigured(say, ["--arm64"]);
}
