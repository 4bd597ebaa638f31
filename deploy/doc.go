// Package deploy holds what runs netrecon's daemon elsewhere than a
// developer's shell: the container recipe (Containerfile) and the Kubernetes
// manifests (kubernetes/). It has no code; its tests check the recipe and the
// manifests against the daemon's real build, config loader and HTTP routes,
// so that a manifest cannot drift from what the binary serves. docs/ha.md
// says when to run one daemon and when replicas.
package deploy
